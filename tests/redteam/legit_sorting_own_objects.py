# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_sorting_own_objects
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"by_age": ["bob", "di", "ann", "cy"], "by_grade": ["ann", "cy", "bob", "di"], "in_place": ["bob", "di", "ann", "cy"], "oldest": "di", "words": ["Apple", "banana", "cherry"], "youngest": "cy"}
# @source: over-blocking probe
# Attempt: sorting own objects with key functions, multiple keys, stability, reverse
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Student:
    def __init__(self, name, grade, age):
        self.name = name
        self.grade = grade
        self.age = age


def run(inputs):
    roster = [Student("ann", 90, 20), Student("bob", 85, 22), Student("cy", 90, 19), Student("di", 70, 22)]
    by_grade = sorted(roster, key=lambda s: (-s.grade, s.name))
    by_age = sorted(roster, key=lambda s: s.age, reverse=True)
    roster.sort(key=lambda s: s.name[::-1])
    oldest = max(roster, key=lambda s: (s.age, s.name))
    return {"by_grade": [s.name for s in by_grade], "by_age": [s.name for s in by_age],
            "in_place": [s.name for s in roster], "oldest": oldest.name,
            "youngest": min(roster, key=lambda s: s.age).name,
            "words": sorted(["banana", "Apple", "cherry"], key=str.lower)}
