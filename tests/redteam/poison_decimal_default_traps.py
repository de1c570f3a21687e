# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_decimal_default_traps
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_decimal_default_traps
# @source: decimal.DefaultContext.traps is shared process state; operator.setitem writes outside the write hook
# Attempt: Switch off the DivisionByZero trap in the shared decimal.DefaultContext.traps with
#   operator.setitem, which writes the item in C without passing the sandbox's write hook.
# Safe sandbox must: refuse the write (setitem through the write guard) or restore the shared
#   contexts before the next call.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import decimal
import operator


def run(inputs):
    operator.setitem(decimal.DefaultContext.traps, decimal.DivisionByZero, False)
    raise RuntimeError("traps planted")
