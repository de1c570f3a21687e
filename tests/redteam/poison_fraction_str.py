# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_fraction_str
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_fraction_str
# @source: functools.update_wrapper(assigned=('__str__',)) as a setattr gadget on fractions.Fraction
# Attempt: Set fractions.Fraction.__str__ to a str's bound __str__ method with
#   update_wrapper(Fraction, 'poisoned', assigned=('__str__',), updated=()), so str() of every
#   Fraction in the process returns 'poisoned'.
# Safe sandbox must: refuse update_wrapper onto classes the code did not define (or not offer it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import fractions
import functools


def run(inputs):
    functools.update_wrapper(fractions.Fraction, "poisoned", assigned=("__str__",), updated=())
    raise RuntimeError("Fraction.__str__ planted")
