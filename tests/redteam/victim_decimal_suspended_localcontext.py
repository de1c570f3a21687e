# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_decimal_suspended_localcontext
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"root2": "1.414213562373095048801688724"}
# @source: decimal.localcontext restores the old context only when its with-block exits
# Attempt: Take a square root in the current context.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_decimal_suspended_localcontext on the same node in the same
#   sandbox.
# Note: victim of poison_decimal_suspended_localcontext; @expected_output is what plain CPython
#   3.11 returns when this file runs alone in a fresh interpreter.

import decimal


def run(inputs):
    return {"root2": str(decimal.Decimal(2).sqrt())}
