# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_update_wrapper_globals_merge
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.update_wrapper(updated=('__globals__',)) (sgde facades.py rationale; pyjail folklore)
# Attempt: functools.update_wrapper does getattr(wrapper, name).update(getattr(wrapped, name)) for
#   every name in updated: with updated=('__globals__',) it merges json's module globals into the
#   sandbox's own globals dict, so the bare name `codecs` becomes the real codecs module and
#   codecs.sys.modules['os'] is reachable without any dunder in the node's own attribute reads.
# Safe sandbox must: refuse non-default assigned/updated names (or not offer update_wrapper);
#   never return escaped=True.

import functools
import json


def sink():
    return None


def run(inputs):
    functools.update_wrapper(sink, json.dumps, assigned=(), updated=("__globals__",))
    uid = codecs.sys.modules["os"].getuid()
    return {"escaped": True, "evidence": uid}
