# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_match_class_keyword_register
# @category: isolation
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: red-team report 2, finding 2
# Attempt: reach ABCMeta.register through a class pattern and register float as a Fraction.
# Safe sandbox must: refuse the pattern (registration would change isinstance for every later call).

import fractions


def run(inputs):
    match fractions.Fraction:
        case object(register=reg):
            reg(float)
    return {"escaped": True}
