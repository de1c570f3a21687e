# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_decimal_traps
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"inexact_trapped": true, "inf": "Infinity"}
# @source: over-blocking probe
# Attempt: decimal traps toggled inside localcontext (ctx.traps[...] = ...)
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

import decimal


def run(inputs):
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.DivisionByZero] = False
        inf = decimal.Decimal(1) / decimal.Decimal(0)
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.Inexact] = True
        try:
            decimal.Decimal(1) / decimal.Decimal(3)
            inexact = False
        except decimal.Inexact:
            inexact = True
    return {"inf": str(inf), "inexact_trapped": inexact}
