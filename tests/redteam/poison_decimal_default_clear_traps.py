# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_decimal_default_clear_traps
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_decimal_default_clear_traps
# @source: decimal.DefaultContext methods mutate the shared template without any attribute or item write
# Attempt: Call decimal.DefaultContext.clear_traps(): a plain method call (nothing for a write
#   hook to see) that switches off every trap in the process-wide template new contexts are copied
#   from.
# Safe sandbox must: restore the shared decimal contexts before the next call (or hand out
#   copies); the victim must still trap.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import decimal


def run(inputs):
    decimal.DefaultContext.clear_traps()
    raise RuntimeError("DefaultContext traps cleared")
