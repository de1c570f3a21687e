# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_namedtuple_kwdefaults
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"fields": null}
# @source: functools.wraps(assigned=('__kwdefaults__',)) rewriting collections.namedtuple's keyword defaults
# Attempt: Declare a namedtuple with a keyword as a field name and expect ValueError.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_namedtuple_kwdefaults on the same node in the same sandbox.
# Note: victim of poison_namedtuple_kwdefaults; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

import collections


def run(inputs):
    try:
        Row = collections.namedtuple("Row", ["id", "class"])
        fields = list(Row._fields)
    except ValueError:
        fields = None
    return {"fields": fields}
