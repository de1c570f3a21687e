# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_formatter_from_import
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 (string.Formatter) via from-import
# Attempt: Import the Formatter class with `from string import Formatter` (IMPORT_FROM reads the
#   module attribute in C, not through the attribute hook) and call vformat(). The template walks
#   statistics.NormalDist.__init__.__globals__ to sys.modules['os'] and renders the module's repr.
# Safe sandbox must: route every field step through the attribute guard (or not offer the path at
#   all); never return escaped=True.

import statistics
from string import Formatter


def run(inputs):
    out = Formatter().vformat("{d.__init__.__globals__[sys].modules[os]}", (), {"d": statistics.NormalDist()})
    return {"escaped": True, "evidence": out}
