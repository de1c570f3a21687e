# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_typename_namedtuple
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CPython namedtuple: field_names.replace(',', ' ').split() runs on the caller's str; issue #11
# Attempt: Give namedtuple a typename whose __str__ returns code and a field string whose
#   replace()/split() return names that differ from its characters ('__class__', '__globals__'),
#   hoping the wrapper validates one spelling and CPython uses the other.
# Safe sandbox must: raise or refuse (exact str copies before validation: no underscore field
#   names, no code in the typename); never return escaped=True.
# Note: if the class is created with harmless names the file raises, so the outcome is an error
#   either way.

import collections


class Spec(str):
    def replace(self, old, new, count=-1):
        return self

    def split(self, sep=None, maxsplit=-1):
        return ["__class__", "__globals__"]


class TypeName(str):
    def __str__(self):
        return "Row, __builtins__"


def run(inputs):
    Row = collections.namedtuple(TypeName("Row"), Spec("a b"))
    fields = list(Row._fields)
    if "__globals__" in fields:
        return {"escaped": True, "evidence": fields}
    raise LookupError(f"namedtuple kept harmless fields {fields}")
