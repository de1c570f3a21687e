# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_generators
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"acc": 12, "any_even": true, "countdown": [5, 4, 3, 2, 1], "evens": [0, 2, 4, 6, 8], "fib": [0, 1, 1, 2, 3, 5, 8, 13, 21, 34], "flatten": [1, 2, 3, 4, 5], "squares_sum": 285}
# @source: over-blocking probe
# Attempt: generator functions, generator expressions, yield from, send
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def countdown(n):
    while n > 0:
        yield n
        n -= 1


def flatten(items):
    for item in items:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item


def running_total():
    total = 0
    while True:
        value = yield total
        if value is None:
            return total
        total += value


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


def run(inputs):
    acc = running_total()
    next(acc)
    acc.send(5)
    last = acc.send(7)
    gen = fib()
    first = [next(gen) for _ in range(10)]
    return {"countdown": list(countdown(5)), "flatten": list(flatten([1, [2, [3, 4]], 5])), "acc": last,
            "squares_sum": sum(x * x for x in range(10)), "fib": first,
            "any_even": any(x % 2 == 0 for x in countdown(3)), "evens": list(x for x in range(10) if x % 2 == 0)}
