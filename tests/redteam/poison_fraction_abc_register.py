# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_fraction_abc_register
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_fraction_abc_register
# @source: ABCMeta.register is a public method of every ABC class (fractions.Fraction's metaclass is ABCMeta)
# Attempt: Register float as a virtual subclass of fractions.Fraction: isinstance(0.25, Fraction)
#   becomes True process-wide, so Fraction arithmetic and the Fraction(float) constructor take the
#   rational path and fail on float.numerator.
# Safe sandbox must: refuse ABC registration on classes the code did not define (or undo it); the
#   victim must compute normally.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import fractions


def run(inputs):
    fractions.Fraction.register(float)
    raise RuntimeError("Fraction registry planted")
