# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_re_repl_cache
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"text": "a<1>b<22>"}
# @source: re._compile_repl is a functools.lru_cache keyed by (repl, pattern); a str subclass lying in __eq__/__hash__
# Attempt: Wrap every number in angle brackets with re.sub.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_re_repl_cache on the same node in the same sandbox.
# Note: victim of poison_re_repl_cache; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import re


def run(inputs):
    return {"text": re.sub(r"(\d+)", r"<\1>", "a1b22")}
