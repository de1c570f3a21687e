# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_decimal_defaultcontext
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"fresh_prec": 28, "seventh": "0.1428571428571428571428571429"}
# @source: decimal.DefaultContext is the process-wide template every new Context() copies
# Attempt: Build a fresh Context() and divide in the current context.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_decimal_defaultcontext on the same node in the same sandbox.
# Note: victim of poison_decimal_defaultcontext; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

import decimal


def run(inputs):
    fresh = decimal.Context()
    return {"fresh_prec": fresh.prec, "seventh": str(decimal.Decimal(1) / decimal.Decimal(7))}
