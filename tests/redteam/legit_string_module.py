# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_string_module
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"capwords": "Hello Wide World", "digits": "0123456789", "hex": "0123456789abcdefABCDEF", "is_lower": true, "letters": "abcdeXYZ", "partial": "x and $b", "punct_count": 32, "text": "Dear Ann, you owe 12.50 dollars. $5 fee."}
# @source: over-blocking probe
# Attempt: string.Template, string constants, capwords
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import string


def run(inputs):
    tpl = string.Template("Dear $name, you owe ${amount} dollars. $$5 fee.")
    text = tpl.substitute(name="Ann", amount="12.50")
    partial = string.Template("$a and $b").safe_substitute(a="x")
    return {
        "text": text,
        "partial": partial,
        "letters": string.ascii_letters[:5] + string.ascii_letters[-3:],
        "digits": string.digits,
        "punct_count": len(string.punctuation),
        "capwords": string.capwords("hello   wide world"),
        "hex": string.hexdigits,
        "is_lower": all(c in string.ascii_lowercase for c in "abc"),
    }
