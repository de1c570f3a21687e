# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_decimal_default_clear_traps
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"outcomes": ["DivisionByZero", "InvalidOperation"]}
# @source: decimal.DefaultContext methods mutate the shared template without any attribute or item write
# Attempt: Trigger InvalidOperation and DivisionByZero and expect both traps.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_decimal_default_clear_traps on the same node in the same
#   sandbox.
# Note: victim of poison_decimal_default_clear_traps; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

import decimal


def run(inputs):
    outcomes = []
    for a, b in [("1", "0"), ("0", "0")]:
        try:
            outcomes.append(str(decimal.Decimal(a) / decimal.Decimal(b)))
        except decimal.DivisionByZero:
            outcomes.append("DivisionByZero")
        except decimal.InvalidOperation:
            outcomes.append("InvalidOperation")
    return {"outcomes": outcomes}
