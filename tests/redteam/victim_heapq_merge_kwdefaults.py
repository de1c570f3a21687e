# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_heapq_merge_kwdefaults
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"merged": [1, 2, 3, 4, 7, 9]}
# @source: operator.attrgetter('__kwdefaults__') plus operator.methodcaller('update') on a stdlib function
# Attempt: Merge two sorted lists.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_heapq_merge_kwdefaults on the same node in the same sandbox.
# Note: victim of poison_heapq_merge_kwdefaults; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

import heapq


def run(inputs):
    return {"merged": list(heapq.merge([1, 4, 7], [2, 3, 9]))}
