# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_match_class_keyword_format
# @category: format_string
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: red-team report 2, finding 2 (class-pattern keywords are read with a plain getattr)
# Attempt: capture the real str.format through a class pattern's keyword and read module globals as text.
# Safe sandbox must: refuse the pattern.

import json


def run(inputs):
    match "{0.__globals__[codecs].sys}":
        case str(format=fmt):
            return {"escaped": True, "evidence": fmt(json.dumps)}
    return {}
