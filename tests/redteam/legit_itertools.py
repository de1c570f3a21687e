# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_itertools
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"accumulate": [1, 3, 6, 10], "chain": [1, 2, 3], "combinations": [["a", "b"], ["a", "c"], ["b", "c"]], "compress": ["a", "c", "e", "f"], "cycle": ["x", "y", "x", "y", "x"], "dropwhile": [3, 4], "groupby": [["a", 3], ["b", 1], ["c", 2], ["d", 2]], "islice": [10, 15, 20, 25], "n_permutations": 24, "pairwise": [[1, 4], [4, 9]], "product": ["a1", "a2", "b1", "b2"], "products": [1, 2, 6, 24], "repeat": [7, 7, 7], "running_max": [3, 3, 4, 4, 5], "starmap": [8, 9], "takewhile": [1, 2], "zip_longest": [[1, "a"], [2, "b"], [3, "-"]]}
# @source: over-blocking probe
# Attempt: itertools building blocks
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import itertools
import operator


def run(inputs):
    data = [1, 2, 3, 4]
    runs = [[k, len(list(g))] for k, g in itertools.groupby("aaabccdd")]
    return {
        "accumulate": list(itertools.accumulate(data)),
        "running_max": list(itertools.accumulate([3, 1, 4, 1, 5], max)),
        "products": list(itertools.accumulate(data, operator.mul)),
        "groupby": runs,
        "combinations": [list(c) for c in itertools.combinations("abc", 2)],
        "n_permutations": len(list(itertools.permutations(range(4), 3))),
        "product": ["".join(p) for p in itertools.product("ab", "12")],
        "chain": list(itertools.chain.from_iterable([[1, 2], [3], []])),
        "islice": list(itertools.islice(itertools.count(10, 5), 4)),
        "zip_longest": [list(t) for t in itertools.zip_longest([1, 2, 3], "ab", fillvalue="-")],
        "pairwise": [list(p) for p in itertools.pairwise([1, 4, 9])],
        "starmap": list(itertools.starmap(pow, [(2, 3), (3, 2)])),
        "takewhile": list(itertools.takewhile(lambda v: v < 3, data)),
        "dropwhile": list(itertools.dropwhile(lambda v: v < 3, data)),
        "compress": list(itertools.compress("abcdef", [1, 0, 1, 0, 1, 1])),
        "cycle": list(itertools.islice(itertools.cycle("xy"), 5)),
        "repeat": list(itertools.repeat(7, 3)),
    }
