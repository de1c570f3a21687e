# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_re_finditer_sub
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @inputs: {"text": "Alice has 3 cats, Bob has 12 dogs and -4 debts"}
# @expected_output: {"doubled": "Alice has 6 cats, Bob has 24 dogs and -8 debts", "numbers": [3, 12, -4], "parts": ["a", "b", "c", "d"], "spans": [["Alice", 0], ["Bob", 18]], "subn": ["f00 b00", 4], "words": 3}
# @source: over-blocking probe
# Attempt: regular expressions: findall, finditer, sub with a function, split, flags
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import re


def run(inputs):
    text = inputs["text"]
    numbers = [int(n) for n in re.findall(r"-?\d+", text)]
    spans = [[m.group(), m.start()] for m in re.finditer(r"\b[A-Z][a-z]+\b", text)]
    doubled = re.sub(r"\d+", lambda m: str(int(m.group()) * 2), text)
    parts = re.split(r"\s*[,;]\s*", "a, b;c ,d")
    words = re.findall(r"apple", "Apple APPLE apple", flags=re.IGNORECASE)
    return {"numbers": numbers, "spans": spans, "doubled": doubled, "parts": parts, "words": len(words),
            "subn": list(re.subn(r"o", "0", "foo boo"))}
