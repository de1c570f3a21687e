# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_math_facade_dict
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"hyp": 5.0, "sqrt": 4.0}
# @source: functools.update_wrapper(updated=('__dict__',)) writing into a shared module facade
# Attempt: Call math.sqrt and math.hypot.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_math_facade_dict on the same node in the same sandbox.
# Note: victim of poison_math_facade_dict; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import math


def run(inputs):
    return {"sqrt": math.sqrt(16.0), "hyp": math.hypot(3, 4)}
