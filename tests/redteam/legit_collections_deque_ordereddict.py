# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_collections_deque_ordereddict
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"chain": ["red", "L"], "deque": [4, 0, 2, 3], "first": ["c", 99], "od": [["a", 97], ["b", 98]], "window": [7, 8, 9]}
# @source: over-blocking probe
# Attempt: collections.deque, OrderedDict and ChainMap
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

from collections import ChainMap, OrderedDict, deque


def run(inputs):
    q = deque([1, 2, 3], maxlen=4)
    q.append(4)
    q.append(5)
    q.appendleft(0)
    q.rotate(1)
    od = OrderedDict()
    for key in "bca":
        od[key] = ord(key)
    od.move_to_end("b")
    first = od.popitem(last=False)
    settings = ChainMap({"color": "red"}, {"color": "blue", "size": "L"})
    return {"deque": list(q), "od": [[k, v] for k, v in od.items()], "first": list(first),
            "chain": [settings["color"], settings["size"]], "window": list(deque(range(10), maxlen=3))}
