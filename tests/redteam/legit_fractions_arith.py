# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_fractions_arith
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"a": "11/12", "approx_pi": "311/99", "as_float": 0.125, "compare": true, "from_float": "5/2", "from_str": "1/8", "num_den": [137, 60], "rounded": 4, "square": "1/9", "total": "137/60"}
# @source: over-blocking probe
# Attempt: exact rational arithmetic with fractions.Fraction
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import math
from fractions import Fraction


def run(inputs):
    a = Fraction(3, 4) + Fraction(1, 6)
    parts = [Fraction(1, n) for n in range(1, 6)]
    total = sum(parts, Fraction(0))
    return {
        "a": str(a),
        "from_str": str(Fraction("0.125")),
        "from_float": str(Fraction(2.5)),
        "total": str(total),
        "num_den": [total.numerator, total.denominator],
        "approx_pi": str(Fraction(math.pi).limit_denominator(100)),
        "square": str(Fraction(1, 3) ** 2),
        "as_float": float(Fraction(1, 8)),
        "rounded": round(Fraction(7, 2)),
        "compare": Fraction(2, 3) > Fraction(3, 5),
    }
