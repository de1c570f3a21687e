# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_print_and_return
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"steps": 5, "total": 15}
# @source: over-blocking probe
# Attempt: print() calls (output captured, not part of the result) alongside the returned dict
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

def run(inputs):
    total = 0
    for i in range(1, 6):
        total += i
        print("step", i, "total", total)
    print("done", end="!\n", sep="")
    print(f"{total:>5}")
    return {"total": total, "steps": 5}
