# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_operator_overloading
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"abs": 5.0, "add": [4, 6], "dot": 11, "eq": true, "fmt": "(3.0, 4.0)", "iadd": [4, 6], "len": 2, "neg": [-1, -2], "repr": "Vector(1, 2)", "scale": [6, 8], "sub": [2, 2], "x": 3}
# @source: over-blocking probe
# Attempt: an own Vector class with arithmetic, comparison, iteration and __format__
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import math


class Vector:
    def __init__(self, *coords):
        self.coords = tuple(coords)

    def __add__(self, other):
        return Vector(*[a + b for a, b in zip(self.coords, other.coords)])

    def __sub__(self, other):
        return Vector(*[a - b for a, b in zip(self.coords, other.coords)])

    def __mul__(self, k):
        return Vector(*[a * k for a in self.coords])

    def __rmul__(self, k):
        return self * k

    def __neg__(self):
        return self * -1

    def __abs__(self):
        return math.hypot(*self.coords)

    def __eq__(self, other):
        return self.coords == other.coords

    def __iter__(self):
        return iter(self.coords)

    def __len__(self):
        return len(self.coords)

    def __getitem__(self, i):
        return self.coords[i]

    def __repr__(self):
        return f"Vector{self.coords}"

    def __format__(self, spec):
        return "(" + ", ".join(format(c, spec) for c in self.coords) + ")"


def run(inputs):
    v = Vector(3, 4)
    w = Vector(1, 2)
    total = v
    total += w
    return {"add": list(v + w), "sub": list(v - w), "scale": list(2 * v), "neg": list(-w), "abs": abs(v),
            "eq": v == Vector(3, 4), "len": len(v), "x": v[0], "repr": repr(w), "fmt": f"{v:.1f}",
            "iadd": list(total), "dot": sum(a * b for a, b in zip(v, w))}
