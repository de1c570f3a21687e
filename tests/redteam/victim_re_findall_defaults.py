# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_re_findall_defaults
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"hits": ["ab", "ab"]}
# @source: functools.update_wrapper(assigned=('__defaults__',)) rewriting a stdlib function's defaults
# Attempt: Find a lower-case word in mixed-case text.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_re_findall_defaults on the same node in the same sandbox.
# Note: victim of poison_re_findall_defaults; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import re


def run(inputs):
    return {"hits": re.findall("ab", "ab AB aB Ab ab")}
