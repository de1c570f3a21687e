# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_string_methods
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"case": ["ABC", "abc", "Hello World", "Hello", "aBc"], "chars": [65, "a"], "checks": [true, true, true, true, true], "expand": "a   b", "find": [9, -1, 2, 16], "join": "2024-01-05", "lines": ["a", "b", "c"], "pad": ["007", "**ab**", "ab..", "  ab"], "partition": ["key", "=", "value=x"], "remove": ["x", "x"], "replace": "Bye, World! Hello!", "reverse": "desserts", "rsplit": ["a.b", "c"], "split": ["name", "age", "city"], "starts": [true, true], "strip": "Hello, World! Hello!", "translate": "hippo"}
# @source: over-blocking probe
# Attempt: str methods used when parsing and formatting text
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    s = "  Hello, World! Hello!  "
    csv_line = "name, age ,city"
    return {
        "strip": s.strip(),
        "split": [p.strip() for p in csv_line.split(",")],
        "rsplit": "a.b.c".rsplit(".", 1),
        "join": "-".join(["2024", "01", "05"]),
        "replace": s.strip().replace("Hello", "Bye", 1),
        "case": ["abc".upper(), "ABC".lower(), "hello world".title(), "hello".capitalize(), "AbC".swapcase()],
        "find": [s.find("World"), s.find("xyz"), s.count("Hello"), s.rfind("Hello")],
        "checks": ["123".isdigit(), "abc".isalpha(), "a1".isalnum(), " ".isspace(), "Ab".istitle()],
        "pad": ["7".zfill(3), "ab".center(6, "*"), "ab".ljust(4, "."), "ab".rjust(4)],
        "partition": list("key=value=x".partition("=")),
        "starts": ["report.pdf".endswith((".pdf", ".doc")), "http://x".startswith("http")],
        "lines": "a\nb\r\nc".splitlines(),
        "reverse": "stressed"[::-1],
        "chars": [ord("A"), chr(97)],
        "translate": "hello".translate(str.maketrans("el", "ip")),
        "remove": ["prefix_x".removeprefix("prefix_"), "x.txt".removesuffix(".txt")],
        "expand": "a\tb".expandtabs(4),
    }
