# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_tuple_namedtuple_fields
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: collections.namedtuple field_names; tuple subclass whose length, membership and iteration lie
# Attempt: Pass namedtuple a tuple subclass whose __len__/__contains__/__getitem__ describe two
#   harmless fields while iteration yields '__class__' and '__globals__' after the first pass,
#   hoping a wrapper validates one view and namedtuple uses the other.
# Safe sandbox must: raise or refuse (one exact-str copy, validated and used); never return
#   escaped=True.
# Note: if a class with harmless fields comes back the file raises, so the outcome is an error
#   either way.

import collections


class Fields(tuple):
    def __init__(self, items):
        self.calls = 0

    def __iter__(self):
        self.calls += 1
        return iter(["a", "b"] if self.calls == 1 else ["__class__", "__globals__"])

    def __len__(self):
        return 2

    def __contains__(self, item):
        return item in ("a", "b")

    def __getitem__(self, index):
        return ["a", "b"][index]


def run(inputs):
    Row = collections.namedtuple("Row", Fields(("a", "b")))
    fields = list(Row._fields)
    if "__globals__" in fields:
        return {"escaped": True, "evidence": fields}
    raise LookupError(f"namedtuple kept harmless fields {fields}")
