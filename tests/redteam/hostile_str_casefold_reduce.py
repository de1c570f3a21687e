# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_casefold_reduce
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11: hostile str subclass; functools.reduce as the caller of getattr
# Attempt: Run the attribute walk through functools.reduce(getattr, names, obj) with names whose
#   casefold() returns 'safe', for a guard that case-folds before its checks; reduce calls the
#   sandbox getattr with the caller's objects.
# Safe sandbox must: refuse the dunder name whatever the str subclass answers (check an exact str
#   copy, e.g. str.__str__(name), and use that copy for the lookup), or refuse str subclasses as
#   names; never return escaped=True.

import functools


class Name(str):
    def casefold(self):
        return "safe"


def run(inputs):
    names = [Name(n) for n in ("__class__", "__base__", "__subclasses__")]
    classes = functools.reduce(getattr, names, ())()
    return {"escaped": True, "evidence": len(classes)}
