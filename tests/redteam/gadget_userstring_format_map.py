# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_userstring_format_map
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 family: collections.UserString.format_map delegates to str.format_map
# Attempt: collections.UserString.format_map(mapping) calls self.data.format_map(mapping) inside
#   the stdlib. The template walks statistics.NormalDist.__init__.__globals__ to sys.modules['os']
#   and renders the module's repr.
# Safe sandbox must: route every field step through the attribute guard (or not offer the path at
#   all); never return escaped=True.

import collections
import statistics


def run(inputs):
    text = collections.UserString("{d.__init__.__globals__[sys].modules[os]}")
    out = text.format_map({"d": statistics.NormalDist()})
    return {"escaped": True, "evidence": out}
