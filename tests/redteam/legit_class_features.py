# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_class_features
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"describe": "hot", "empty": false, "error": "below absolute zero", "f": 95.0, "from_f": 100.0, "has_b": true, "len": 3, "list": ["a", "b", "c"], "private": 35, "second": "b", "slice": ["b", "c"]}
# @source: over-blocking probe
# Attempt: property (getter/setter), classmethod, staticmethod, container dunders on own classes
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Temperature:
    def __init__(self, celsius):
        self._celsius = celsius

    @property
    def celsius(self):
        return self._celsius

    @celsius.setter
    def celsius(self, value):
        if value < -273.15:
            raise ValueError("below absolute zero")
        self._celsius = value

    @property
    def fahrenheit(self):
        return self._celsius * 9 / 5 + 32

    @classmethod
    def from_fahrenheit(cls, f):
        return cls((f - 32) * 5 / 9)

    @staticmethod
    def describe(value):
        return "hot" if value > 30 else "mild"


class Bag:
    def __init__(self, *items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, index):
        return self.items[index]

    def __contains__(self, item):
        return item in self.items

    def __bool__(self):
        return bool(self.items)


def run(inputs):
    t = Temperature(25)
    t.celsius = 35
    try:
        t.celsius = -300
        error = None
    except ValueError as e:
        error = str(e)
    bag = Bag("a", "b", "c")
    return {"f": t.fahrenheit, "from_f": Temperature.from_fahrenheit(212).celsius, "describe": Temperature.describe(t.celsius),
            "error": error, "len": len(bag), "list": list(bag), "second": bag[1], "slice": bag[1:],
            "has_b": "b" in bag, "empty": bool(Bag()), "private": t._celsius}
