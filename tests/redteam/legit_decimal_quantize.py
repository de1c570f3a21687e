# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_decimal_quantize
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"down": "2.67", "formatted": "1,234.50", "half_up": "2.68", "integral": "8", "round_builtin": "2.68", "seventh": "0.142857", "subtotal": "59.97", "sum": "0.3", "tax": "4.95", "total": "64.92"}
# @source: over-blocking probe
# Attempt: money arithmetic with decimal: quantize, rounding modes, localcontext
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

from decimal import Decimal, ROUND_HALF_UP, ROUND_DOWN, localcontext


def run(inputs):
    price = Decimal("19.99")
    subtotal = price * 3
    tax = (subtotal * Decimal("0.0825")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    with localcontext() as ctx:
        ctx.prec = 6
        seventh = Decimal(1) / Decimal(7)
    return {
        "subtotal": str(subtotal),
        "tax": str(tax),
        "total": str(subtotal + tax),
        "half_up": str(Decimal("2.675").quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
        "down": str(Decimal("2.679").quantize(Decimal("0.01"), rounding=ROUND_DOWN)),
        "seventh": str(seventh),
        "round_builtin": str(round(Decimal("2.675"), 2)),
        "formatted": format(Decimal("1234.5"), ",.2f"),
        "integral": str(Decimal("7.5").to_integral_value()),
        "sum": str(sum([Decimal("0.1")] * 3)),
    }
