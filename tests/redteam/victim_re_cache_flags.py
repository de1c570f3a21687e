# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_re_cache_flags
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"found": false}
# @source: re._compile caches by (type, pattern, flags); an int subclass lying in __eq__/__hash__ collides with flags=0
# Attempt: Search case-sensitively for a word that only appears in upper case.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_re_cache_flags on the same node in the same sandbox.
# Note: victim of poison_re_cache_flags; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import re


def run(inputs):
    return {"found": re.search("colour", "COLOUR") is not None}
