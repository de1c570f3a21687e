# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_format_template
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 (format-string traversal); issue #11 hostile str subclass as template
# Attempt: Call .format() on a str subclass whose __str__ returns the harmless template '{0}', so
#   a guard that inspects str(template) finds no attribute fields while the formatter parses the
#   real text '{0.__class__.__base__.__subclasses__}'.
# Safe sandbox must: parse and guard the exact characters of the template (every {0.attr} step
#   through the attribute guard); never return escaped=True.

class Template(str):
    def __str__(self):
        return "{0}"


def run(inputs):
    out = Template("{0.__class__.__base__.__subclasses__}").format(())
    if "subclasses" in out:
        return {"escaped": True, "evidence": out}
    raise LookupError(f"formatted to {out!r}")
