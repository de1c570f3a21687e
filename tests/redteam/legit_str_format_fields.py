# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_str_format_fields
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"attr": "Ann is 31", "auto": "1 + 2 = 3", "format_map": "Oslo at -3.5", "index": "b then a", "key": "Oslo: -3.5", "nested_width": "    3.14", "str_method": "x-y"}
# @source: over-blocking probe
# Attempt: str.format / format_map with index, key and attribute fields on plain data and own
#   objects
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Person:
    def __init__(self, name, age):
        self.name = name
        self.age = age


def run(inputs):
    p = Person("Ann", 31)
    row = {"city": "Oslo", "temp": -3.5}
    return {
        "attr": "{p.name} is {p.age}".format(p=p),
        "index": "{0[1]} then {0[0]}".format(["a", "b"]),
        "key": "{r[city]}: {r[temp]:+.1f}".format(r=row),
        "format_map": "{city} at {temp}".format_map(row),
        "auto": "{} + {} = {}".format(1, 2, 1 + 2),
        "nested_width": "{:{w}.{p}f}".format(3.14159, w=8, p=2),
        "str_method": str.format("{}-{}", "x", "y"),
    }
