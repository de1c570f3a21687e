# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_random_class_method
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"first": 0.6394267984578837, "second": 0.025010755222666936}
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on a stdlib class
# Attempt: Draw from a Random instance the victim seeds itself.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_random_class_method on the same node in the same sandbox.
# Note: victim of poison_random_class_method; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter. deterministic: it seeds its own
#   random.Random(42).

import random


def run(inputs):
    rng = random.Random(42)
    return {"first": rng.random(), "second": rng.random()}
