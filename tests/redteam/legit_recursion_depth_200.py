# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_recursion_depth_200
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"depth": 200, "even": true, "nested": 200, "total": 19900}
# @source: over-blocking probe
# Attempt: plain recursion 200 deep (depth, recursive sum, mutual recursion)
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def total(items):
    if not items:
        return 0
    return items[0] + total(items[1:])


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def nest(n):
    return [] if n == 0 else [nest(n - 1)]


def measure(tree):
    return 0 if not tree else 1 + measure(tree[0])


def run(inputs):
    return {"depth": depth(200), "total": total(list(range(200))), "even": is_even(200),
            "nested": measure(nest(200))}
