# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_re_groups
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"date_groups": ["2024", "07", "04"], "fullmatch": true, "groupdict": {"item": "pencils", "name": "Maria", "price": "0.35", "qty": "12"}, "name": "Maria", "no_match": true, "span": [26, 33], "total": 4.2}
# @source: over-blocking probe
# Attempt: regular expressions: groups, named groups, groupdict, fullmatch
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import re

LINE = re.compile(r"(?P<name>[A-Za-z]+)\s+bought\s+(?P<qty>\d+)\s+(?P<item>\w+)\s+at\s+\$(?P<price>\d+(?:\.\d+)?)")


def run(inputs):
    m = LINE.search("Yesterday Maria bought 12 pencils at $0.35 each")
    date = re.match(r"(\d{4})-(\d{2})-(\d{2})", "2024-07-04")
    return {
        "groupdict": m.groupdict(),
        "name": m.group("name"),
        "total": round(int(m["qty"]) * float(m["price"]), 2),
        "date_groups": list(date.groups()),
        "span": list(m.span("item")),
        "fullmatch": re.fullmatch(r"[A-Z]{3}-\d{3}", "ABC-123") is not None,
        "no_match": re.match(r"\d+", "abc") is None,
    }
