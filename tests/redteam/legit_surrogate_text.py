# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_surrogate_text
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"n": 3, "ok": true}
# @source: red-team report 2, finding 8 (a lone surrogate in printed text crashed the reply)
# Attempt: print and handle text with a lone surrogate (what a JSON \ud800 escape gives).
# Safe sandbox must: run it; the reply still encodes.

def run(inputs):
    s = "a" + chr(0xD800) + "b"
    print(s)
    try:
        raise ValueError(s)
    except ValueError:
        pass
    return {"n": len(s), "ok": True}
