# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_closures_nonlocal
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"average": 30.0, "calls": 3, "counter": 17, "multipliers": [10, 20, 30]}
# @source: over-blocking probe
# Attempt: closures with nonlocal, factories, default-argument binding, global counter
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

CALLS = 0


def make_counter(start=0):
    count = start

    def step(by=1):
        nonlocal count
        count += by
        return count
    return step


def make_multipliers():
    return [lambda x, k=k: x * k for k in range(1, 4)]


def averager():
    values = []

    def add(v):
        values.append(v)
        return sum(values) / len(values)
    return add


def bump():
    global CALLS
    CALLS += 1
    return CALLS


def run(inputs):
    c = make_counter(10)
    c()
    c(5)
    avg = averager()
    avg(10)
    avg(20)
    bump()
    bump()
    return {"counter": c(), "multipliers": [f(10) for f in make_multipliers()], "average": avg(60),
            "calls": bump()}
