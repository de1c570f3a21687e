# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_decimal_setcontext
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_decimal_setcontext
# @expected_output: {"two_thirds": "0.66666"}
# @source: decimal.setcontext() replaces the thread's current context for the rest of the process
# Attempt: Install a new current context with decimal.setcontext(Context(prec=5,
#   rounding=ROUND_DOWN)), legitimately, inside the call.
# Safe sandbox must: run it, but nothing it changes may be visible to a later call (reset per
#   call, or a fresh process); this file itself is ordinary code and must return @expected_output.

import decimal


def run(inputs):
    decimal.setcontext(decimal.Context(prec=5, rounding=decimal.ROUND_DOWN))
    return {"two_thirds": str(decimal.Decimal(2) / decimal.Decimal(3))}
