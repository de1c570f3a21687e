# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_methodcaller_subclasses
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: operator.methodcaller looks the method up in C with a caller-chosen name
# Attempt: operator.methodcaller('__subclasses__')(object) lists every loaded class.
# Safe sandbox must: look the method up through the attribute guard (or not offer methodcaller);
#   never return escaped=True.

import operator


def run(inputs):
    classes = operator.methodcaller("__subclasses__")(object)
    return {"escaped": True, "evidence": len(classes)}
