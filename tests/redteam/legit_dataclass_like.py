# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_dataclass_like
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"eq": true, "index": "125", "min": "Money(0, 'USD')", "ne": true, "nonzero": 4, "sorted": ["Money(0, 'USD')", "Money(125, 'USD')", "Money(500, 'USD')", "Money(500, 'USD')", "Money(990, 'USD')"], "total": "Money(2115, 'USD')", "unique": 4}
# @source: over-blocking probe
# Attempt: value classes with __eq__, __hash__, __repr__, __lt__, __add__; sets, dicts and sorting
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class Money:
    def __init__(self, cents, currency="USD"):
        self.cents = cents
        self.currency = currency

    def __repr__(self):
        return f"Money({self.cents}, {self.currency!r})"

    def __eq__(self, other):
        return isinstance(other, Money) and (self.cents, self.currency) == (other.cents, other.currency)

    def __hash__(self):
        return hash((self.cents, self.currency))

    def __lt__(self, other):
        return self.cents < other.cents

    def __add__(self, other):
        return Money(self.cents + other.cents, self.currency)

    def __bool__(self):
        return self.cents != 0


def run(inputs):
    wallet = [Money(500), Money(125), Money(500), Money(0), Money(990)]
    unique = set(wallet)
    index = {m: str(m.cents) for m in wallet}
    total = sum(wallet[1:], wallet[0])
    return {"unique": len(unique), "sorted": [repr(m) for m in sorted(wallet)], "total": repr(total),
            "index": index[Money(125)], "nonzero": len([m for m in wallet if m]),
            "eq": Money(1) == Money(1), "ne": Money(1) != Money(1, "EUR"), "min": repr(min(wallet))}
