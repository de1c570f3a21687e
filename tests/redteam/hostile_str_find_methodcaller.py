# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_find_methodcaller
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11: hostile str subclass; operator.methodcaller name
# Attempt: Give operator.methodcaller the name '__subclasses__' as a str subclass whose find()
#   answers -1 (no underscore found), so a wrapper checking name.find('_') passes it and C
#   methodcaller calls object.__subclasses__().
# Safe sandbox must: check an exact str copy and look the method up through the attribute guard
#   (or not offer methodcaller); never return escaped=True.

import operator


class Name(str):
    def find(self, sub, *args):
        return -1


def run(inputs):
    classes = operator.methodcaller(Name("__subclasses__"))(object)
    return {"escaped": True, "evidence": len(classes)}
