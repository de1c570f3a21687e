# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_namedtuple_new_globals
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CPython namedtuple eval()s __new__ in a private namespace; collections.namedtuple(module=...)
# Attempt: Create a namedtuple with module='os' and read the eval'd __new__'s globals (the private
#   namespace holding _tuple_new) and __module__ through str.format.
# Safe sandbox must: refuse the dunder traversal; never return escaped=True.

import collections


def run(inputs):
    Row = collections.namedtuple("Row", "a b", module="os")
    out = "{0.__new__.__globals__} {0.__module__}".format(Row)
    return {"escaped": True, "evidence": out[:80]}
