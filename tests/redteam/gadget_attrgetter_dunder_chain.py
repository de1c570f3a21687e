# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_attrgetter_dunder_chain
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: operator.attrgetter does getattr in C with caller-chosen dotted names
# Attempt: Use operator.attrgetter('__class__.__base__.__subclasses__') and
#   attrgetter('__init__.__globals__') to walk from a tuple to os.getuid without any attribute
#   read of the node's own.
# Safe sandbox must: walk every dotted part through the attribute guard (or not offer attrgetter);
#   never return escaped=True.

import operator


def run(inputs):
    for cls in operator.attrgetter("__class__.__base__.__subclasses__")(())():
        if operator.attrgetter("__name__")(cls) == "_wrap_close":
            uid = operator.attrgetter("__init__.__globals__")(cls)["getuid"]()
            return {"escaped": True, "evidence": uid}
    raise LookupError("os._wrap_close is not loaded")
