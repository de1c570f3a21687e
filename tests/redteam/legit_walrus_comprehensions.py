# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_walrus_comprehensions
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"chunks": [[4, -1, 9], [0, 16, -25], [36]], "cond": ["pos", "neg", "pos", "zero"], "dict": {"aa": 2, "b": 1, "ccc": 3}, "flat": [1, 3, 3, 9], "gen_sum": 65, "inverted": {"1": "a", "2": "b"}, "last": 21, "matrix": [[1, 2, 3], [2, 4, 6], [3, 6, 9]], "roots": [2, 4, 6], "set": [0, 1, 2], "transpose": [[1, 2, 3], [2, 4, 6], [3, 6, 9]]}
# @source: over-blocking probe
# Attempt: walrus and every kind of comprehension
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    data = [4, -1, 9, 0, 16, -25, 36]
    roots = [r for x in data if x > 0 and (r := int(x ** 0.5)) % 2 == 0]
    chunks = []
    pos = 0
    while (chunk := data[pos:pos + 3]):
        chunks.append(chunk)
        pos += 3
    matrix = [[i * j for j in range(1, 4)] for i in range(1, 4)]
    return {
        "roots": roots,
        "chunks": chunks,
        "matrix": matrix,
        "transpose": [[row[i] for row in matrix] for i in range(3)],
        "flat": [v for row in matrix for v in row if v % 2],
        "dict": {w: len(w) for w in ["aa", "b", "ccc"]},
        "set": sorted({x % 3 for x in range(10)}),
        "gen_sum": sum(x for x in data if x > 0),
        "cond": ["neg" if x < 0 else "pos" if x > 0 else "zero" for x in data[:4]],
        "last": (n := len(data)) * 2 + n,
        "inverted": {str(v): k for k, v in {"a": 1, "b": 2}.items()},
    }
