# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_math_facade_dict
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_math_facade_dict
# @source: functools.update_wrapper(updated=('__dict__',)) writing into a shared module facade
# Attempt: Merge an own object's attributes into the math module facade's __dict__ with
#   functools.update_wrapper(math, source, assigned=(), updated=('__dict__',)), replacing
#   math.sqrt for every later call that imports math in the same process.
# Safe sandbox must: refuse it (update_wrapper only onto the code's own functions; facades without
#   a writable __dict__).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import functools
import math


def fake_sqrt(x):
    return -1.0


class Source:
    def __init__(self):
        self.sqrt = fake_sqrt


def run(inputs):
    functools.update_wrapper(math, Source(), assigned=(), updated=("__dict__",))
    raise RuntimeError("math.sqrt planted")
