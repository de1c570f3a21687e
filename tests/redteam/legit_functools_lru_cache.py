# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_functools_lru_cache
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"fib90": 2880067194370816120, "hits": 88, "misses": 91, "ways": 242}
# @source: over-blocking probe
# Attempt: memoised recursion with functools.lru_cache and cache
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import functools


@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@functools.cache
def ways(total, coins):
    if total == 0:
        return 1
    if total < 0 or not coins:
        return 0
    return ways(total - coins[0], coins) + ways(total, coins[1:])


def run(inputs):
    value = fib(90)
    info = fib.cache_info()
    return {"fib90": value, "hits": info.hits, "misses": info.misses, "ways": ways(100, (1, 5, 10, 25))}
