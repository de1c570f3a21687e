# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_class_getattribute_def
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: listed forbidden dunder definitions (__getattribute__, __getattr__, __setattr__)
# Attempt: Define __getattribute__ on an own class so that any guard that reads obj.__dict__ or
#   obj.__class__ (instead of base descriptors) gets a forged answer, e.g. a class claiming to be
#   someone else's and a __dict__ claiming every private name.
# Safe sandbox must: refuse the definition (compile time or policy error at class creation).

class Forged:
    def __getattribute__(self, name):
        if name == "__dict__":
            return {"_secret": 1, "__globals__": 1}
        return object

    def __setattr__(self, name, value):
        pass


def run(inputs):
    probe = Forged()
    return {"escaped": True, "evidence": repr(probe.anything)}
