# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_generator_finalizer
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_generator_finalizer
# @source: red-team report 2, finding 1 (a suspended generator in a reference cycle is finalized by the
#   cyclic GC inside a LATER call of a warm worker, after that call's state reset)
# Attempt: park a generator whose finally block sets decimal's context to 3 digits and re-plants itself;
#   hold it only through a cycle, so the GC runs the finally block during the next call.
# Safe sandbox must: run the finally block inside this call (or refuse the call); the victim computes
#   with the default context.

import decimal


def sleeper(store, push, setctx, bad, me):
    try:
        yield 1
    finally:
        setctx(bad)
        nxt = me(store, push, setctx, bad, me)
        push(nxt)
        next(nxt)


def run(inputs):
    junk = [[i] for i in range(2000)]
    junk = None
    store = []
    g = sleeper(store, store.append, decimal.setcontext, decimal.Context(prec=3), sleeper)
    store.append(g)
    next(g)
    raise RuntimeError("planted; the victim decides whether it worked")
