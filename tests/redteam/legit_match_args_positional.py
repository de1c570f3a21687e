# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_match_args_positional
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"results": ["origin", "y=4", "x=2", "1,2"]}
# @source: over-blocking probe
# Attempt: match statements: positional class patterns on own classes via __match_args__
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).
# Note: positional sub-patterns on own classes need the class attribute __match_args__ (data, not
#   a method).

class Vec:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def where(v):
    match v:
        case Vec(0, 0):
            return "origin"
        case Vec(0, y):
            return f"y={y}"
        case Vec(x, 0):
            return f"x={x}"
        case Vec(x, y=y):
            return f"{x},{y}"


def run(inputs):
    return {"results": [where(Vec(0, 0)), where(Vec(0, 4)), where(Vec(2, 0)), where(Vec(1, 2))]}
