# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_class_mro_entries
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: PEP 560 __mro_entries__ on a non-class base (listed as a forbidden dunder definition)
# Attempt: Use an instance with __mro_entries__ as a class base so the class statement's bases are
#   replaced by (json.JSONEncoder,) after any check on the written base expression.
# Safe sandbox must: refuse the __mro_entries__ definition at compile time or the resulting base
#   at class creation.

import json


class Stand:
    def __mro_entries__(self, bases):
        return (json.JSONEncoder,)


def run(inputs):
    class Enc(Stand()):
        pass

    return {"escaped": True, "evidence": repr(Enc.item_separator)}
