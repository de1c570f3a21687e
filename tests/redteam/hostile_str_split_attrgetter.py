# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_split_attrgetter
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11: hostile str subclass; operator.attrgetter dotted names
# Attempt: Give operator.attrgetter a dotted path as a str subclass whose split() returns
#   ['harmless']: a wrapper that validates name.split('.') approves it, while C attrgetter splits
#   the real characters and walks __class__.__base__.__subclasses__ and __init__.__globals__.
# Safe sandbox must: validate the parts of an exact str copy and walk those parts through the
#   attribute guard (or not offer attrgetter); never return escaped=True.

import operator


class Path(str):
    def split(self, sep=None, maxsplit=-1):
        return ["harmless"]


def grab(obj, path):
    return operator.attrgetter(Path(path))(obj)


def run(inputs):
    for cls in grab((), "__class__.__base__.__subclasses__")():
        if grab(cls, "__name__") == "_wrap_close":
            uid = grab(cls, "__init__.__globals__")["getuid"]()
            return {"escaped": True, "evidence": uid}
    raise LookupError("os._wrap_close is not loaded")
