# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_random_seeded
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"choice": "red", "choices": ["a", "b", "b", "a"], "deck": [7, 3, 2, 8, 5, 6, 9, 4, 0, 1], "randint": [5, 4, 1, 1, 1], "sample": [29, 64, 77], "uniform": 0.026536}
# @source: over-blocking probe
# Attempt: deterministic use of an own random.Random instance
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).
# Note: deterministic: it seeds its own random.Random(42).

import random


def run(inputs):
    rng = random.Random(42)
    deck = list(range(10))
    rng.shuffle(deck)
    return {
        "randint": [rng.randint(1, 6) for _ in range(5)],
        "choice": rng.choice(["red", "green", "blue"]),
        "sample": rng.sample(range(100), 3),
        "deck": deck,
        "uniform": round(rng.uniform(0, 1), 6),
        "choices": rng.choices("ab", weights=[1, 3], k=4),
    }
