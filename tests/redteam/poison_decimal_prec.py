# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_decimal_prec
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_decimal_prec
# @expected_output: {"third": "0.333"}
# @source: decimal's thread-local current context outlives a call in a warm worker
# Attempt: Lower the precision of the current decimal context (decimal.getcontext().prec = 3),
#   legitimately, inside the call.
# Safe sandbox must: run it, but nothing it changes may be visible to a later call (reset per
#   call, or a fresh process); this file itself is ordinary code and must return @expected_output.

import decimal


def run(inputs):
    decimal.getcontext().prec = 3
    return {"third": str(decimal.Decimal(1) / decimal.Decimal(3))}
