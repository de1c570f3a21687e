# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_decimal_suspended_localcontext
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_decimal_suspended_localcontext
# @expected_output: {"inside": 4, "now": "1.414"}
# @source: decimal.localcontext restores the old context only when its with-block exits
# Attempt: Suspend a generator inside `with decimal.localcontext()` (prec 4) and keep it alive in
#   a reference cycle, so the block never exits and the lowered context stays current after the
#   call returns.
# Safe sandbox must: run it, but nothing it changes may be visible to a later call (reset per
#   call, or a fresh process); this file itself is ordinary code and must return @expected_output.

import decimal


def hold(keep):
    with decimal.localcontext() as ctx:
        ctx.prec = 4
        yield ctx.prec


def run(inputs):
    keep = []
    gen = hold(keep)
    keep.append(gen)
    inside = next(gen)
    return {"inside": inside, "now": str(decimal.Decimal(2).sqrt())}
