# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_index_repeat_limit
# @category: dos
# @expect: limit   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: no   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: python.org rexec FAQ ('a' * 12345678901) via an __index__ object
# Attempt: Repeat a string by an object that is not an int but has __index__ returning 10**10,
#   slipping past a repetition guard that only bounds int operands.
# Safe sandbox must: stop it with the memory limit and report a limit error (or refuse it before
#   it runs).

class Count:
    def __index__(self):
        return 10 ** 10


def run(inputs):
    text = "ab" * Count()
    return {"n": len(text)}
