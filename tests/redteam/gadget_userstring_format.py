# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_userstring_format
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 family: collections.UserString.format delegates to str.format
# Attempt: collections.UserString.format(*args) calls self.data.format(*args) on a real str inside
#   the stdlib, so the template is formatted by the real str.format. The template walks
#   statistics.NormalDist.__init__.__globals__ to sys.modules['os'] and renders the module's repr.
# Safe sandbox must: route every field step through the attribute guard (or not offer the path at
#   all); never return escaped=True.

import collections
import statistics


def run(inputs):
    out = collections.UserString("{0.__init__.__globals__[sys].modules[os]}").format(statistics.NormalDist())
    return {"escaped": True, "evidence": out}
