# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_decimal_defaultcontext
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_decimal_defaultcontext
# @source: decimal.DefaultContext is the process-wide template every new Context() copies
# Attempt: Write decimal.DefaultContext.prec and .rounding (a shared module-level object, writable
#   because it is a Context).
# Safe sandbox must: refuse the write or undo it before the next call; the victim must not see
#   prec 3.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import decimal


def run(inputs):
    decimal.DefaultContext.prec = 3
    decimal.DefaultContext.rounding = decimal.ROUND_FLOOR
    raise RuntimeError("DefaultContext planted")
