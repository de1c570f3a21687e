# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_regexflag_map
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"flags": 10, "found": true}
# @source: enum.Flag caches composite members in _value2member_map_; an int subclass lying in __eq__/__hash__
# Attempt: Combine re.I | re.M and anchor a search at a line start.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_regexflag_map on the same node in the same sandbox.
# Note: victim of poison_regexflag_map; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import re


def run(inputs):
    flags = re.I | re.M
    return {"flags": int(flags), "found": re.search("^b", "a\nb", flags) is not None}
