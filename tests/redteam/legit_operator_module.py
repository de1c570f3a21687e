# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_operator_module
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"add": 5, "by_second": [["c", 1], ["b", 3], ["a", 5]], "contains": true, "dept_name": [["ops", "ann"], ["dev", "bob"], ["dev", "cy"]], "firsts": ["b", "a", "c"], "mul_reduce": 24, "names": ["bob", "cy", "ann"], "neg": -5, "pairs": [[3, "b"], [5, "a"], [1, "c"]], "truediv": 3.5}
# @source: over-blocking probe
# Attempt: operator.itemgetter, attrgetter on own objects, add, mul
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import operator
from functools import reduce


class Employee:
    def __init__(self, name, dept, salary):
        self.name = name
        self.dept = dept
        self.salary = salary


def run(inputs):
    rows = [("b", 3), ("a", 5), ("c", 1)]
    staff = [Employee("ann", "ops", 50), Employee("bob", "dev", 70), Employee("cy", "dev", 60)]
    by_salary = sorted(staff, key=operator.attrgetter("salary"), reverse=True)
    return {
        "by_second": [list(r) for r in sorted(rows, key=operator.itemgetter(1))],
        "firsts": list(map(operator.itemgetter(0), rows)),
        "pairs": [list(operator.itemgetter(1, 0)(r)) for r in rows],
        "names": [e.name for e in by_salary],
        "dept_name": [list(t) for t in map(operator.attrgetter("dept", "name"), staff)],
        "add": operator.add(2, 3),
        "mul_reduce": reduce(operator.mul, [2, 3, 4]),
        "truediv": operator.truediv(7, 2),
        "neg": operator.neg(5),
        "contains": operator.contains([1, 2, 3], 2),
    }
