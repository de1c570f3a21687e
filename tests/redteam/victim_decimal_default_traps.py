# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_decimal_default_traps
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"one_over_zero": "trapped"}
# @source: decimal.DefaultContext.traps is shared process state; operator.setitem writes outside the write hook
# Attempt: Divide by zero and expect the default trap.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_decimal_default_traps on the same node in the same sandbox.
# Note: victim of poison_decimal_default_traps; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

import decimal


def run(inputs):
    try:
        value = str(decimal.Decimal(1) / decimal.Decimal(0))
    except decimal.DivisionByZero:
        value = "trapped"
    return {"one_over_zero": value}
