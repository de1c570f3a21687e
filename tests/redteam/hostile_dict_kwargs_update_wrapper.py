# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_dict_kwargs_update_wrapper
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.update_wrapper(updated=('__globals__',)); dict subclass as **kwargs
# Attempt: Call functools.update_wrapper(sink, json.dumps, **opts) with a dict subclass whose
#   __getitem__, get(), keys() and items() report the default keyword values while the dict's real
#   storage (what ** unpacking copies) holds assigned=() and updated=('__globals__',).
# Safe sandbox must: judge the keyword values the callee actually receives (or not accept them),
#   and only update the code's own functions with default names; never return escaped=True.

import functools
import json


class Options(dict):
    def __getitem__(self, key):
        return functools.WRAPPER_UPDATES if key == "updated" else functools.WRAPPER_ASSIGNMENTS

    def get(self, key, default=None):
        return self[key]

    def keys(self):
        return []

    def items(self):
        return []


def sink():
    return None


def run(inputs):
    opts = Options()
    dict.update(opts, {"assigned": (), "updated": ("__globals__",)})
    functools.update_wrapper(sink, json.dumps, **opts)
    uid = codecs.sys.modules["os"].getuid()
    return {"escaped": True, "evidence": uid}
