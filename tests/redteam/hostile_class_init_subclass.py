# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_class_init_subclass
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: listed forbidden dunder definitions (__init_subclass__, __set_name__, __class_getitem__)
# Attempt: Define __init_subclass__ and __set_name__ hooks that run when later classes or
#   attributes are created, hoping the sandbox's own class machinery calls them with its internal
#   objects.
# Safe sandbox must: refuse the definitions (compile time or policy error at class creation).

SEEN = []


class Hook:
    def __init_subclass__(cls, **kwargs):
        SEEN.append(kwargs)

    def __set_name__(self, owner, name):
        SEEN.append(name)


def run(inputs):
    class Child(Hook):
        field = Hook()

    return {"escaped": True, "evidence": repr(SEEN)}
