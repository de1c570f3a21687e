# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_decimal_context
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"after": "1.235", "prec_now": 4, "root": "3.1623", "third": "0.333333333333", "via_ctx": "0.66666"}
# @source: over-blocking probe
# Attempt: decimal contexts: getcontext().prec, Context methods, setcontext within the call
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import decimal


def run(inputs):
    decimal.getcontext().prec = 12
    third = decimal.Decimal(1) / decimal.Decimal(3)
    ctx = decimal.Context(prec=5, rounding=decimal.ROUND_DOWN)
    via_ctx = ctx.divide(decimal.Decimal(2), decimal.Decimal(3))
    root = ctx.sqrt(decimal.Decimal(10))
    decimal.setcontext(decimal.Context(prec=4, rounding=decimal.ROUND_HALF_UP))
    after = decimal.Decimal("1.23456") + 0
    return {"third": str(third), "via_ctx": str(via_ctx), "root": str(root), "after": str(after),
            "prec_now": decimal.getcontext().prec}
