# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_match_class_patterns
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"results": ["origin", "on y axis at 5", "diagonal 3", "some point", "centered circle r=2", "big circle", "other", "text HI", "number 7", "number 2.5"]}
# @source: over-blocking probe
# Attempt: match statements: class patterns with keyword sub-patterns on own classes, positional
#   on builtins
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Circle:
    def __init__(self, center, radius):
        self.center = center
        self.radius = radius


def describe(shape):
    match shape:
        case Point(x=0, y=0):
            return "origin"
        case Point(x=0, y=y):
            return f"on y axis at {y}"
        case Point(x=x, y=y) if x == y:
            return f"diagonal {x}"
        case Circle(center=Point(x=0, y=0), radius=r):
            return f"centered circle r={r}"
        case Circle(radius=r) if r > 10:
            return "big circle"
        case Point():
            return "some point"
        case str(text):
            return f"text {text.upper()}"
        case int(n) | float(n):
            return f"number {n}"
        case _:
            return "other"


def run(inputs):
    shapes = [Point(0, 0), Point(0, 5), Point(3, 3), Point(1, 2), Circle(Point(0, 0), 2), Circle(Point(1, 1), 11),
              Circle(Point(1, 1), 1), "hi", 7, 2.5]
    return {"results": [describe(s) for s in shapes]}
