# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_cmath
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"abs": 5.0, "conj": [3.0, -4.0], "phase_pi": 3.14159265359, "polar": [1.0, 1.570796326795], "product": [-7.0, 24.0], "quadratic": ["(-0.5+0.8660254037844386j)", "(-0.5-0.8660254037844386j)"], "rect": [2.0, 0.0], "root": [0.0, 2.0]}
# @source: over-blocking probe
# Attempt: complex numbers with cmath and builtin complex
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import cmath


def run(inputs):
    root = cmath.sqrt(-4)
    z = complex(3, 4)
    r, phi = cmath.polar(1j)
    return {
        "root": [root.real, root.imag],
        "abs": abs(z),
        "conj": [z.conjugate().real, z.conjugate().imag],
        "product": [(z * z).real, (z * z).imag],
        "phase_pi": round(cmath.phase(-1), 12),
        "polar": [r, round(phi, 12)],
        "rect": [round(cmath.rect(2, 0).real, 12), round(cmath.rect(2, 0).imag, 12)],
        "quadratic": sorted([str((-1 + s * cmath.sqrt(1 - 4 * 1 * 1)) / 2) for s in (1, -1)]),
    }
