# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_round_divmod
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"ceil_div": 4, "clock": "2:15", "divmod": [[3, 2], [-4, 3], [-4, -3], [3.0, 1.5]], "money": 59.97, "round": [2.67, 0, 2, 2, -2, 1200.0, 1234.6, 7]}
# @source: over-blocking probe
# Attempt: round with ndigits (banker's rounding), divmod with negatives and floats
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    minutes = 135
    hours, rest = divmod(minutes, 60)
    return {
        "round": [round(2.675, 2), round(0.5), round(1.5), round(2.5), round(-2.5), round(1234.5678, -2),
                  round(1234.5678, 1), round(7)],
        "divmod": [list(divmod(17, 5)), list(divmod(-17, 5)), list(divmod(17, -5)), list(divmod(7.5, 2))],
        "clock": f"{hours}:{rest:02d}",
        "ceil_div": -(-17 // 5),
        "money": round(19.99 * 3, 2),
    }
