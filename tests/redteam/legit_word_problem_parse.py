# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_word_problem_parse
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @inputs: {"question": "Janet's ducks lay 16 eggs per day. She eats three for breakfast and bakes muffins with 4. She sells the rest for $2 each."}
# @expected_output: {"answer": "$18.00", "earned": 18.0, "left": 9, "numbers": ["16", "3", "4", "2"]}
# @source: over-blocking probe
# Attempt: typical generated code: pull numbers out of a word problem and compute the answer
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import re
from fractions import Fraction

WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "dozen": 12, "half": Fraction(1, 2)}


def numbers_in(text):
    found = []
    for token in re.findall(r"\$?\d+(?:\.\d+)?|[a-z]+", text.lower()):
        if token in WORDS:
            found.append(Fraction(WORDS[token]))
        elif token[0] == "$" or token[0].isdigit():
            found.append(Fraction(token.lstrip("$")))
    return found


def run(inputs):
    nums = numbers_in(inputs["question"])
    eggs_per_day, eaten, baked, price = nums
    left = eggs_per_day - eaten - baked
    earned = left * price
    return {"numbers": [str(n) for n in nums], "left": int(left), "earned": float(earned),
            "answer": "$" + format(float(earned), ".2f")}
