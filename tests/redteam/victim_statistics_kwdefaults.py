# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_statistics_kwdefaults
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"cuts": [2.25, 4.5, 6.75]}
# @source: functools.update_wrapper(assigned=('__kwdefaults__',)) rewriting statistics.quantiles' keyword defaults
# Attempt: Compute the default quartiles.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_statistics_kwdefaults on the same node in the same sandbox.
# Note: victim of poison_statistics_kwdefaults; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

import statistics


def run(inputs):
    return {"cuts": statistics.quantiles([1, 2, 3, 4, 5, 6, 7, 8])}
