# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_partial_func_format
# @category: format_string
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: CVE-2023-41039 (format traversal); functools.partial exposes .func
# Attempt: Wrap a stdlib function in functools.partial and traverse its public .func attribute
#   with str.format ('{0.func.__globals__[sys].modules[os]}'). The template walks
#   partial.func.__globals__ (the statistics module's) to sys.modules['os'] and renders the
#   module's repr.
# Safe sandbox must: route every field step through the attribute guard (or not offer the path at
#   all); never return escaped=True.

import functools
import statistics


def run(inputs):
    out = "{0.func.__globals__[sys].modules[os]}".format(functools.partial(statistics.mean))
    if "module" in out:
        return {"escaped": True, "evidence": out}
    raise LookupError(f"formatted to {out!r}")
