# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_class_star_bases
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: sandbox rule: classes derive only from plain builtins; bases given through *args
# Attempt: Give a class statement its bases through *bases, where the tuple subclass's __len__,
#   __getitem__ and __contains__ describe only `object` while iteration (what the interpreter
#   uses) yields decimal.Context.
# Safe sandbox must: check the bases the class is really built from and refuse decimal.Context
#   (policy error).

import decimal


class Bases(tuple):
    def __iter__(self):
        return iter([decimal.Context])

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return object

    def __contains__(self, item):
        return item is object


def run(inputs):
    class Ctx(*Bases((object,))):
        pass

    return {"escaped": True, "evidence": repr(Ctx().prec)}
