# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_datetime_class_attr
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"max": "9999-12-31", "min": "0001-01-01"}
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on datetime.date (a C type)
# Attempt: Read datetime.date.max and format today's-style dates.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_datetime_class_attr on the same node in the same sandbox.
# Note: victim of poison_datetime_class_attr; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import datetime


def run(inputs):
    return {"max": datetime.date.max.isoformat(), "min": datetime.date.min.isoformat()}
