# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_collections_counter_defaultdict
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"elements": ["a", "a", "b"], "groups": {"1": ["a"], "3": ["the", "big", "cat", "and", "the", "dog", "saw", "cat"], "5": ["small"]}, "missing": 0, "more_cat": 3, "most_common": [["the", 2], ["cat", 2]], "the": 2, "total": 10, "totals": {"a": 7, "b": 5}}
# @source: over-blocking probe
# Attempt: collections.Counter and defaultdict for tallies and grouping
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

from collections import Counter, defaultdict


def run(inputs):
    words = "the big cat and the small dog saw a cat".split()
    counts = Counter(words)
    more = counts + Counter(["cat", "dog"])
    groups = defaultdict(list)
    for w in words:
        groups[len(w)].append(w)
    totals = defaultdict(int)
    for name, amount in [("a", 3), ("b", 5), ("a", 4)]:
        totals[name] += amount
    return {
        "most_common": [[w, n] for w, n in counts.most_common(2)],
        "the": counts["the"],
        "missing": counts["zebra"],
        "more_cat": more["cat"],
        "elements": sorted(Counter(a=2, b=1).elements()),
        "groups": {str(k): v for k, v in sorted(groups.items())},
        "totals": dict(totals),
        "total": sum(counts.values()),
    }
