# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_json_encoder_default
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_json_encoder_default
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on json.JSONEncoder
# Attempt: Set json.JSONEncoder.default = str with update_wrapper(json.JSONEncoder, source,
#   assigned=('default',), updated=()): json.dumps's module-level default encoder would then
#   serialise anything instead of raising TypeError.
# Safe sandbox must: refuse update_wrapper onto classes the code did not define (or not offer it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import functools
import json


class Source:
    def __init__(self):
        self.default = str


def run(inputs):
    functools.update_wrapper(json.JSONEncoder, Source(), assigned=("default",), updated=())
    raise RuntimeError("JSONEncoder.default planted")
