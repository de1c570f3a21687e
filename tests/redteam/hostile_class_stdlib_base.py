# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_class_stdlib_base
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: sandbox rule: classes derive only from plain builtins and the code's own classes
# Attempt: Derive a class from fractions.Fraction (a stdlib ABC-registered class with class-level
#   state) and lie in __eq__/__hash__, so the subclass is accepted where Fraction is and its
#   methods run inside stdlib code.
# Safe sandbox must: refuse the base (compile time or policy error at class creation).

import fractions


class Loose(fractions.Fraction):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


def run(inputs):
    return {"escaped": True, "evidence": repr(Loose(1, 3))}
