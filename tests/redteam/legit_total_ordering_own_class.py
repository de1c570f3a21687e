# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_total_ordering_own_class
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"ge": true, "gt": false, "max": "1.10.0", "sorted": ["0.9", "1.2.3", "1.2.10", "1.10.0"]}
# @source: over-blocking probe
# Attempt: functools.total_ordering on the code's own class
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import functools


@functools.total_ordering
class Version:
    def __init__(self, text):
        self.parts = [int(p) for p in text.split(".")]
        self.text = text

    def __eq__(self, other):
        return self.parts == other.parts

    def __lt__(self, other):
        return self.parts < other.parts


def run(inputs):
    versions = [Version(v) for v in ["1.10.0", "1.2.3", "1.2.10", "0.9"]]
    ordered = sorted(versions)
    return {"sorted": [v.text for v in ordered], "ge": Version("2.0") >= Version("2.0"),
            "gt": Version("1.2") > Version("1.10"), "max": max(versions).text}
