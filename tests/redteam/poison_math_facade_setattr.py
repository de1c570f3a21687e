# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_math_facade_setattr
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_math_facade_setattr
# @source: module facades must be read-only: plain attribute assignment on an imported module
# Attempt: Assign math.sqrt = fake directly on the imported module object (the facade, or the real
#   module if one leaks).
# Safe sandbox must: refuse the write (policy error); the victim must see the real math.sqrt.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import math


def fake_sqrt(x):
    return -1.0


def run(inputs):
    math.sqrt = fake_sqrt
    raise RuntimeError("math.sqrt planted")
