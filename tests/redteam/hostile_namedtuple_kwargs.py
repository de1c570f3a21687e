# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_namedtuple_kwargs
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CPython namedtuple(rename=, defaults=, module=) keyword handling; issue #11 hostile objects
# Attempt: Call namedtuple with a rename object whose __bool__ flips, a defaults tuple subclass
#   whose __iter__/__len__ lie, and a module object whose __str__ lies, then read the generated
#   __new__'s globals through str.format ('{0.__new__.__globals__}').
# Safe sandbox must: raise or refuse; the format traversal of __new__/__globals__ must be refused
#   whatever namedtuple accepted; never return escaped=True.

import collections


class Flip:
    def __init__(self):
        self.calls = 0

    def __bool__(self):
        self.calls += 1
        return self.calls % 2 == 0


class Defaults(tuple):
    def __iter__(self):
        return iter(["__builtins__"])

    def __len__(self):
        return 0


class Module:
    def __str__(self):
        return "os"


def run(inputs):
    Row = collections.namedtuple("Row", "a b", rename=Flip(), defaults=Defaults((1,)), module=Module())
    shown = "{0.__new__.__globals__}".format(Row)
    return {"escaped": True, "evidence": shown[:80]}
