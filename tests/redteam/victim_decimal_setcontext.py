# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_decimal_setcontext
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"rounding": "ROUND_HALF_EVEN", "two_thirds": "0.6666666666666666666666666667"}
# @source: decimal.setcontext() replaces the thread's current context for the rest of the process
# Attempt: Divide with whatever context is current and report its rounding mode.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_decimal_setcontext on the same node in the same sandbox.
# Note: victim of poison_decimal_setcontext; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import decimal


def run(inputs):
    ctx = decimal.getcontext()
    return {"rounding": ctx.rounding, "two_thirds": str(decimal.Decimal(2) / decimal.Decimal(3))}
