# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_template_mapping
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: string.Template substitution with a caller-defined mapping (issue #11 follow-up)
# Attempt: Launder a dunder name through string.Template: the placeholder '${__globals__}' is cut
#   out of the template by the regex engine and handed to the mapping's __getitem__ as a plain
#   str, which then calls getattr(run, key); also try an attribute placeholder.
# Safe sandbox must: the getattr inside __getitem__ is still node code and must be refused; never
#   return escaped=True.
# Note: string.Template itself only does item lookups; if nothing is refused the file raises, so
#   the outcome is an error either way.

import string


class Namespace(dict):
    def __missing__(self, key):
        return getattr(run, key)


def run(inputs):
    text = string.Template("${__globals__}").substitute(Namespace())
    if "getattr" in text or "__builtins__" in text:
        return {"escaped": True, "evidence": text[:80]}
    raise LookupError("Template did not hand out the globals")
