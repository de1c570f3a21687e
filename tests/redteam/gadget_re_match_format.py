# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_re_match_format
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 (format traversal) from re.Match .string/.re
# Attempt: Start the traversal from a public attribute of a re match object (m.string is the
#   subject str, m.re the Pattern) and walk str -> object -> __subclasses__ with str.format. The
#   template walks str -> object -> object.__subclasses__ and renders the bound method's repr.
# Safe sandbox must: route every field step through the attribute guard (or not offer the path at
#   all); never return escaped=True.

import re


def run(inputs):
    m = re.match(r"(?P<word>\w+)", "hello")
    out = "{0.string.__class__.__mro__[1].__subclasses__}".format(m)
    if "subclasses" in out:
        return {"escaped": True, "evidence": out[:80]}
    raise LookupError(f"formatted to {out!r}")
