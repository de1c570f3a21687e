# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_math_functions
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"close": true, "comb_perm": [120, 20, 3628800], "floor_ceil": [-3, -2, -2], "fsum": 1.0, "gcd_lcm": [12, 60], "hypot": 13.0, "isqrt": 1000000, "log2": 10.0, "pi4": 3.1416, "prod": 120, "radians": 60.0, "sqrt2": 1.4142135624}
# @source: over-blocking probe
# Attempt: math helpers generated arithmetic code uses
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import math


def run(inputs):
    return {
        "sqrt2": round(math.sqrt(2), 10),
        "floor_ceil": [math.floor(-2.5), math.ceil(-2.5), math.trunc(-2.5)],
        "gcd_lcm": [math.gcd(84, 36), math.lcm(4, 6, 10)],
        "comb_perm": [math.comb(10, 3), math.perm(5, 2), math.factorial(10)],
        "isqrt": math.isqrt(10 ** 12 + 1),
        "hypot": math.hypot(5, 12),
        "prod": math.prod([1, 2, 3, 4, 5]),
        "fsum": math.fsum([0.1] * 10),
        "log2": math.log2(1024),
        "pi4": round(math.pi, 4),
        "close": math.isclose(0.1 + 0.2, 0.3),
        "radians": round(math.degrees(math.pi / 3), 6),
    }
