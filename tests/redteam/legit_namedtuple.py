# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_namedtuple
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"asdict": {"x": 3, "y": 4}, "eq": true, "fields": ["x", "y"], "item": {"name": "pen", "price": 2.5, "qty": 1}, "made": [7, 8], "replaced": [3, 10], "repr": "Point(x=3, y=4)", "total": 2.5, "unpacked": 13}
# @source: over-blocking probe
# Attempt: collections.namedtuple with _asdict, _replace, _fields, defaults
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

from collections import namedtuple

Point = namedtuple("Point", ["x", "y"])
Item = namedtuple("Item", "name price qty", defaults=[1])


def run(inputs):
    p = Point(3, 4)
    q = p._replace(y=10)
    item = Item("pen", 2.5)
    x, y = q
    return {
        "asdict": p._asdict(),
        "replaced": list(q),
        "fields": list(Point._fields),
        "item": item._asdict(),
        "total": item.price * item.qty,
        "unpacked": x + y,
        "made": list(Point._make([7, 8])),
        "repr": repr(p),
        "eq": p == (3, 4),
    }
