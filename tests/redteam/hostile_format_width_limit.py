# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_format_width_limit
# @category: dos
# @expect: limit   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: no   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: format-spec width DoS (python.org rexec FAQ style); own __format__ lying about the width
# Attempt: Use an f-string whose nested width comes from an object whose __format__ returns
#   '900000000': a guard that checks isinstance(width, int) and a bound never sees a number, and
#   formatting then builds a 900 MB string.
# Safe sandbox must: stop it with the memory limit (MemoryError or cgroup kill) and report a limit
#   error, or refuse it before it runs.

class Width:
    def __format__(self, spec):
        return "900000000"


def run(inputs):
    text = f"{'a':{Width()}}"
    return {"n": len(text)}
