# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_format_nested_spec
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 family: replacement fields nested inside a format spec
# Attempt: Hide the attribute traversal inside the format spec of another field
#   ('{0:{1.__class__.__mro__}}') and inside an own class's __format__, hoping the spec is
#   formatted by a second, unguarded pass.
# Safe sandbox must: guard fields inside format specs exactly like top-level fields; never return
#   escaped=True.

class Cell:
    def __format__(self, spec):
        return "<" + spec + ">"


def run(inputs):
    out = "{0:{1.__class__.__mro__}}".format(Cell(), ())
    if "object" in out:
        return {"escaped": True, "evidence": out}
    raise LookupError(f"formatted to {out!r}")
