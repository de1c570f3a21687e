# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_int_float_conversions
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"abs_neg": [5, 2.5], "as_ratio": [3, 4], "bases": ["0b1010", "0xff", "0o10"], "big_len": 302, "big_mod": 62, "bit_length": 101, "bool_int": 2, "division": [3.5, 3, -4, 1, 2, 0.5], "floats": [0.001, 2.5, 7.0], "from_bytes": 256, "ints": [42, -7, 255, 5, 1000, 3, -3], "inverse": 4, "is_integer": [true, false], "pow_mod": 56888193, "repr_float": "0.30000000000000004", "str_int": "1000000000000000000000000000000"}
# @source: over-blocking probe
# Attempt: int/float conversions, big integers, pow with modulus
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    return {
        "ints": [int("42"), int(" -7 "), int("ff", 16), int("0b101", 0), int("1_000"), int(3.99), int(-3.99)],
        "floats": [float("1e-3"), float(" 2.5 "), float(7)],
        "division": [7 / 2, 7 // 2, -7 // 2, 7 % 3, -7 % 3, 2 ** -1],
        "big_mod": 2 ** 200 % 97,
        "big_len": len(str(2 ** 1000)),
        "pow_mod": pow(3, 1000, 10 ** 9 + 7),
        "inverse": pow(3, -1, 11),
        "bit_length": (2 ** 100).bit_length(),
        "as_ratio": list((0.75).as_integer_ratio()),
        "is_integer": [(4.0).is_integer(), (4.5).is_integer()],
        "repr_float": repr(0.1 + 0.2),
        "str_int": str(10 ** 30),
        "bases": [bin(10), hex(255), oct(8)],
        "from_bytes": int.from_bytes(b"\x01\x00", "big"),
        "abs_neg": [abs(-5), abs(-2.5)],
        "bool_int": True + True,
    }
