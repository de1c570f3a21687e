# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_isidentifier_namedtuple
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CPython namedtuple builds __new__ with eval(); issue #11 hostile str subclass
# Attempt: Pass namedtuple field names that are str subclasses whose isidentifier() says True and
#   whose startswith() says False, with text that would inject code into the eval'd __new__ source
#   ('x=().__class__.__base__.__subclasses__()'); if a field default ever carried the class list,
#   the attack worked.
# Safe sandbox must: refuse or raise (namedtuple must see exact str copies; CPython's own
#   `type(name) is not str` check raises TypeError); never return escaped=True.
# Note: if namedtuple somehow succeeds without injecting anything, the file raises, so the outcome
#   is an error either way.

import collections


class Field(str):
    def isidentifier(self):
        return True

    def startswith(self, prefix, *args):
        return False


def run(inputs):
    fields = [Field("a"), Field("x=().__class__.__base__.__subclasses__()")]
    Row = collections.namedtuple("Row", fields)
    row = Row(1)
    if isinstance(row[-1], list):
        return {"escaped": True, "evidence": len(row[-1])}
    raise LookupError("namedtuple did not evaluate the injected default")
