# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_reduce_getattr
# @category: introspection
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.reduce as a caller of the sandbox's getattr (pyjail folklore)
# Attempt: functools.reduce(getattr, ['__class__', '__base__', '__subclasses__'], ()) hides the
#   attribute walk inside a stdlib callable; the getattr it receives is the sandbox's.
# Safe sandbox must: refuse the dunder names with a policy error (the getattr builtin is the
#   guarded one).

import functools


def run(inputs):
    classes = functools.reduce(getattr, ["__class__", "__base__", "__subclasses__"], ())()
    return {"escaped": True, "evidence": len(classes)}
