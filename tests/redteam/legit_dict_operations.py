# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_dict_operations
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"by_value": ["kiwi", "apple", "fig", "plum"], "from_keys": {"a": 0, "b": 0}, "in": [true, false], "inverse": {"0": ["fig"], "1": ["apple", "kiwi", "plum"]}, "items_sorted": [["apple", 3], ["fig", 2], ["kiwi", 7], ["plum", 1]], "len": 4, "merged": {"apple": 10, "fig": 2, "kiwi": 7, "plum": 1}, "removed": 0, "stock": {"apple": 3, "fig": 2, "kiwi": 7, "plum": 1}, "union_keys": ["apple", "fig", "kiwi", "lime", "plum"], "zip": {"x": 0, "y": 1, "z": 2}}
# @source: over-blocking probe
# Attempt: dict methods and idioms
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    stock = {"apple": 3, "pear": 0}
    stock.update(kiwi=7)
    stock["fig"] = stock.get("fig", 0) + 2
    stock.setdefault("plum", 1)
    removed = stock.pop("pear")
    merged = {**stock, "apple": 10}
    union = stock | {"lime": 4}
    inverse = {}
    for name, qty in stock.items():
        inverse.setdefault(qty % 2, []).append(name)
    return {"stock": stock, "removed": removed, "merged": merged, "union_keys": sorted(union),
            "by_value": sorted(stock, key=stock.get, reverse=True), "inverse": {str(k): v for k, v in inverse.items()},
            "from_keys": dict.fromkeys("ab", 0), "zip": dict(zip("xyz", range(3))),
            "in": ["kiwi" in stock, "pear" in stock], "len": len(stock),
            "items_sorted": [[k, v] for k, v in sorted(stock.items())]}
