# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_update_wrapper_code_swap
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.update_wrapper(assigned=('__code__',)) writing a stdlib function's code object
# Attempt: Use update_wrapper as a setattr gadget on a stdlib function: copy the node's own code
#   object into statistics.mean.__code__, so the node's code runs with the statistics module's
#   globals and returns its real `sys` module.
# Safe sandbox must: refuse writes to functions and classes the code did not define
#   (update_wrapper only onto the code's own functions, default names only); never return
#   escaped=True.
# Note: a successful run also leaves statistics.mean replaced in that process.

import functools
import statistics


def payload(data):
    return sys


def run(inputs):
    functools.update_wrapper(statistics.mean, payload, assigned=("__code__",), updated=())
    real_sys = statistics.mean([1])
    return {"escaped": True, "evidence": real_sys.modules["os"].getuid()}
