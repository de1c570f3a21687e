# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_contains_hasattr
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11: hostile str subclass as attribute name (hasattr path)
# Attempt: Call hasattr(run, name) with a str subclass whose __contains__ always answers False, so
#   a guard that tests `'__' in name` lets '__globals__' through to the builtin hasattr; a True
#   answer is the proof that the check was lied to (the guard must say False or refuse).
# Safe sandbox must: answer False or refuse (hasattr must run the same guard as getattr, on an
#   exact str copy); never return escaped=True.
# Note: if hasattr correctly answers False the file raises, so the outcome is an error either way.

class Name(str):
    def __contains__(self, part):
        return False


def run(inputs):
    if hasattr(run, Name("__globals__")) and hasattr((), Name("__class__")):
        return {"escaped": True, "evidence": "hasattr reported __globals__ and __class__"}
    raise LookupError("guard held: hasattr said False")
