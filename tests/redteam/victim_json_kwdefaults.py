# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_json_kwdefaults
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"text": "{\"b\": 1, \"a\": 2}"}
# @source: json.dumps keeps its keyword defaults in a shared __kwdefaults__ dict; operator.attrgetter reads it
# Attempt: Serialise a dict whose insertion order is not sorted.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_json_kwdefaults on the same node in the same sandbox.
# Note: victim of poison_json_kwdefaults; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import json


def run(inputs):
    return {"text": json.dumps({"b": 1, "a": 2})}
