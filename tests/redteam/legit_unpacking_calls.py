# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_unpacking_calls
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"call": "n|x|y|size=3", "first": 1, "last": 5, "max_args": 9, "merged": ["x", "y", "z", "w"], "middle": [2, 3, 4], "pairs": [["a", 1], ["b", 2]], "plain": "solo", "swapped": [2, 1, 3], "total": 2}
# @source: over-blocking probe
# Attempt: unpacking, starred assignment, *args/**kwargs calls, keyword-only arguments
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def describe(name, *tags, sep=", ", **extra):
    parts = [name] + list(tags) + [f"{k}={v}" for k, v in sorted(extra.items())]
    return sep.join(parts)


def run(inputs):
    first, *middle, last = [1, 2, 3, 4, 5]
    (a, b), c = (1, 2), 3
    a, b = b, a
    args = ["x", "y"]
    opts = {"sep": "|", "size": 3}
    pairs = [[k, v] for k, v in zip("ab", [1, 2])]
    total = 0
    for i, (key, value) in enumerate({"p": 1, "q": 2}.items()):
        total += i * value
    return {"first": first, "middle": middle, "last": last, "swapped": [a, b, c],
            "call": describe("n", *args, **opts), "plain": describe("solo"), "pairs": pairs, "total": total,
            "merged": [*args, *"zw"], "max_args": max(*[3, 9, 4])}
