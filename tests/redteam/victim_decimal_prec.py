# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_decimal_prec
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"prec": 28, "third": "0.3333333333333333333333333333"}
# @source: decimal's thread-local current context outlives a call in a warm worker
# Attempt: Divide with the default decimal context.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_decimal_prec on the same node in the same sandbox.
# Note: victim of poison_decimal_prec; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import decimal


def run(inputs):
    return {"prec": decimal.getcontext().prec, "third": str(decimal.Decimal(1) / decimal.Decimal(3))}
