# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_try_else_finally
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"assert_message": "no result", "none": null, "prime": 11, "r1": 2.0, "r2": null, "s1": ["ok", "finally"], "s2": ["zero", "finally"]}
# @source: over-blocking probe
# Attempt: control flow: try/except/else/finally, loops with break/continue/else, assert
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def safe_div(a, b):
    steps = []
    try:
        result = a / b
    except ZeroDivisionError:
        steps.append("zero")
        result = None
    else:
        steps.append("ok")
    finally:
        steps.append("finally")
    return result, steps


def first_prime(numbers):
    for n in numbers:
        if n < 2:
            continue
        for d in range(2, int(n ** 0.5) + 1):
            if n % d == 0:
                break
        else:
            return n
    else:
        return None


def run(inputs):
    r1, s1 = safe_div(6, 3)
    r2, s2 = safe_div(1, 0)
    assert r1 == 2.0, "division broke"
    try:
        assert r2 is not None, "no result"
        message = ""
    except AssertionError as e:
        message = str(e)
    return {"r1": r1, "s1": s1, "r2": r2, "s2": s2, "prime": first_prime([1, 4, 6, 9, 11, 13]),
            "none": first_prime([4, 6]), "assert_message": message}
