# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_functools_reduce_partial
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"cube": 64, "max": 9, "partial_args": [], "product": 24, "sorted": ["fig", "date", "kiwi", "pear", "apple"], "squares": [0, 1, 4, 9, 16], "sum": 55}
# @source: over-blocking probe
# Attempt: functools.reduce, partial and cmp_to_key
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import functools
import operator


def power(base, exponent):
    return base ** exponent


def by_length_then_alpha(a, b):
    if len(a) != len(b):
        return len(a) - len(b)
    return (a > b) - (a < b)


def run(inputs):
    square = functools.partial(power, exponent=2)
    cube = functools.partial(power, exponent=3)
    words = ["pear", "fig", "apple", "kiwi", "date"]
    return {
        "sum": functools.reduce(operator.add, range(1, 11)),
        "product": functools.reduce(lambda acc, v: acc * v, [1, 2, 3, 4], 1),
        "max": functools.reduce(max, [3, 9, 2]),
        "squares": [square(n) for n in range(5)],
        "cube": cube(4),
        "sorted": sorted(words, key=functools.cmp_to_key(by_length_then_alpha)),
        "partial_args": list(square.args),
    }
