# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_dict_format_map
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 (format_map traversal); issue #11 hostile dict subclass as mapping
# Attempt: Give str.format_map a dict subclass whose keys()/__contains__ report nothing and whose
#   __missing__ hands back a function, so a guard that pre-screens the mapping sees no values
#   while the template walks '{fn.__globals__}' and '{fn.__class__.__mro__}'.
# Safe sandbox must: guard every {name.attr} step at lookup time (the mapping's own methods prove
#   nothing); never return escaped=True.

class Lookup(dict):
    def keys(self):
        return []

    def __contains__(self, key):
        return False

    def __missing__(self, key):
        return run


def run(inputs):
    out = "{fn.__class__.__mro__} {fn.__globals__}".format_map(Lookup())
    if "object" in out:
        return {"escaped": True, "evidence": out[:80]}
    raise LookupError(f"formatted to {out!r}")
