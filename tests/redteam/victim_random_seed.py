# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_random_seed
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"predicted": false}
# @source: dimagi/open-chat-studio issue #4239 follow-up: module-global RNG state leaks across runs
# Attempt: Draw from the module-level random functions and compare with the sequence the poison's
#   seed would give.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_random_seed on the same node in the same sandbox.
# Note: victim of poison_random_seed; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter. deterministic: it is false unless the draw was
#   predicted (probability about 2**-52 by chance).

import random


def run(inputs):
    seq = random.Random(20240229)
    predicted = [seq.random(), seq.random()]
    return {"predicted": random.random() in predicted}
