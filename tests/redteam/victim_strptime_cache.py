# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_strptime_cache
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"date": "2024-03-04"}
# @source: _strptime keeps a process-wide _regex_cache keyed by the format string; a str subclass lying in __eq__/__hash__
# Attempt: Parse a month-first date.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_strptime_cache on the same node in the same sandbox.
# Note: victim of poison_strptime_cache; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import datetime


def run(inputs):
    when = datetime.datetime.strptime("03/04/2024", "%m/%d/%Y")
    return {"date": when.date().isoformat()}
