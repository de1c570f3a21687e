# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_int_compare_round_limit
# @category: dos
# @expect: limit   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: no   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: Fraction.__round__ computes 10**abs(ndigits); int subclass lying to size comparisons
# Attempt: Pass round(Fraction, ndigits) an int subclass whose <, <=, >, >= all claim it is small,
#   so a guard like `-1000 < ndigits < 1000` approves it, while Fraction.__round__ computes
#   10**abs(ndigits) with the real value 10**9.
# Safe sandbox must: stop it with the CPU or memory limit and report a limit error (or refuse it
#   before it runs).

import fractions


class Digits(int):
    def __lt__(self, other):
        return True

    def __le__(self, other):
        return True

    def __gt__(self, other):
        return False

    def __ge__(self, other):
        return False


def run(inputs):
    value = round(fractions.Fraction(1, 3), Digits(10 ** 9))
    return {"n": str(value)[:10]}
