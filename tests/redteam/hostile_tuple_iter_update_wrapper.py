# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_tuple_iter_update_wrapper
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.update_wrapper(updated=...) merging a module's globals; tuple subclass TOCTOU
# Attempt: Pass updated= as a tuple subclass whose __iter__ yields ('__dict__',) the first time
#   and ('__globals__',) every later time: a wrapper that checks tuple(updated) sees the defaults,
#   update_wrapper's own loop merges json's module globals into the sandbox globals; then the real
#   codecs module (json imports it) leads to sys.modules['os'].
# Safe sandbox must: iterate the caller's tuple at most once (or ignore it and pass the defaults),
#   and only update the code's own functions; never return escaped=True.
# Note: update_wrapper is called twice so that the second iteration is reached even when nothing
#   checks.

import functools
import json


class Names(tuple):
    def __init__(self, items):
        self.calls = 0

    def __iter__(self):
        self.calls += 1
        return iter(("__dict__",) if self.calls == 1 else ("__globals__",))


def sink():
    return None


def run(inputs):
    updated = Names(("__dict__",))
    functools.update_wrapper(sink, json.dumps, updated=updated)
    functools.update_wrapper(sink, json.dumps, updated=updated)
    uid = codecs.sys.modules["os"].getuid()
    return {"escaped": True, "evidence": uid}
