# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_math_facade_setattr
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"isqrt": 8, "sqrt": 9.0}
# @source: module facades must be read-only: plain attribute assignment on an imported module
# Attempt: Call math.sqrt.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_math_facade_setattr on the same node in the same sandbox.
# Note: victim of poison_math_facade_setattr; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import math


def run(inputs):
    return {"sqrt": math.sqrt(81.0), "isqrt": math.isqrt(80)}
