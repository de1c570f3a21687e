# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_generator_finalizer
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"n": 3000, "root2": "1.414213562373095048801688724"}
# @source: red-team report 2, finding 1
# Attempt: ordinary work whose allocations trigger the cyclic GC, then a decimal square root.
# Safe sandbox must: return the default-context answer, whatever the previous call left.

import decimal


def run(inputs):
    rows = [[i, i * i] for i in range(3000)]
    return {"n": len(rows), "root2": str(decimal.Decimal(2).sqrt())}
