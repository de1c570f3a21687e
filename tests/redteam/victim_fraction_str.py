# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_fraction_str
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"fmt": "3/4", "half": "1/2"}
# @source: functools.update_wrapper(assigned=('__str__',)) as a setattr gadget on fractions.Fraction
# Attempt: Print Fractions with str() and an f-string.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_fraction_str on the same node in the same sandbox.
# Note: victim of poison_fraction_str; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

from fractions import Fraction


def run(inputs):
    return {"half": str(Fraction(1, 2)), "fmt": f"{Fraction(3, 4)}"}
