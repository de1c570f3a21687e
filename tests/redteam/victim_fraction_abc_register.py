# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_fraction_abc_register
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"from_float": "3/4", "sum": "0.75"}
# @source: ABCMeta.register is a public method of every ABC class (fractions.Fraction's metaclass is ABCMeta)
# Attempt: Mix a Fraction with a float and convert a float to a Fraction.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_fraction_abc_register on the same node in the same sandbox.
# Note: victim of poison_fraction_abc_register; @expected_output is what plain CPython 3.11
#   returns when this file runs alone in a fresh interpreter.

from fractions import Fraction


def run(inputs):
    return {"sum": str(Fraction(1, 2) + 0.25), "from_float": str(Fraction(0.75))}
