# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_random_seed
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_random_seed
# @expected_output: {"same": true}
# @source: dimagi/open-chat-studio issue #4239 follow-up: module-global RNG state leaks across runs
# Attempt: Seed the module-level random functions (random.seed) and check, legitimately, that the
#   seed works within the call.
# Safe sandbox must: run it, but nothing it changes may be visible to a later call (reset per
#   call, or a fresh process); this file itself is ordinary code and must return @expected_output.

import random


def run(inputs):
    random.seed(20240229)
    first = random.random()
    return {"same": first == random.Random(20240229).random()}
