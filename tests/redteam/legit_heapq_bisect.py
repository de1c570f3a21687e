# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_heapq_bisect
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"grades": ["F", "A", "C", "C", "B", "A", "A"], "insort": [1, 3, 4, 5, 7], "largest": [9, 8], "left": 1, "merged": [1, 2, 4, 5, 7, 8], "order": ["plan", "test", "ship", "write"], "right": 3, "smallest": [1, 2, 3]}
# @source: over-blocking probe
# Attempt: heapq and bisect for priority queues and sorted inserts
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import bisect
import heapq


def grade(score, breakpoints=(60, 70, 80, 90), grades="FDCBA"):
    return grades[bisect.bisect(breakpoints, score)]


def run(inputs):
    heap = []
    for task, prio in [("write", 3), ("test", 1), ("ship", 2), ("plan", 0)]:
        heapq.heappush(heap, (prio, task))
    order = [heapq.heappop(heap)[1] for _ in range(len(heap))]
    nums = [5, 1, 8, 3, 9, 2]
    sorted_list = [1, 3, 5, 7]
    bisect.insort(sorted_list, 4)
    merged = list(heapq.merge([1, 4, 7], [2, 5, 8]))
    return {"order": order, "largest": heapq.nlargest(2, nums), "smallest": heapq.nsmallest(3, nums),
            "insort": sorted_list, "left": bisect.bisect_left([1, 2, 2, 3], 2), "right": bisect.bisect_right([1, 2, 2, 3], 2),
            "grades": [grade(s) for s in [33, 99, 77, 70, 89, 90, 100]], "merged": merged}
