# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_property_fget_globals
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.update_wrapper(updated=('__globals__',)) fed with a property's fget
# Attempt: Read the fget of a stdlib property (statistics.NormalDist.mean.fget, a function of the
#   statistics module) and merge its module globals into the sandbox's with update_wrapper, then
#   use the bare name `sys` (statistics imports it).
# Safe sandbox must: refuse non-default update_wrapper names (or not offer it); never return
#   escaped=True.

import functools
import statistics


def sink():
    return None


def run(inputs):
    getter = statistics.NormalDist.mean.fget
    functools.update_wrapper(sink, getter, assigned=(), updated=("__globals__",))
    uid = sys.modules["os"].getuid()
    return {"escaped": True, "evidence": uid}
