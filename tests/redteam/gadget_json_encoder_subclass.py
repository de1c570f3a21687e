# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_json_encoder_subclass
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: sandbox rule: classes derive only from plain builtins; json.dumps(cls=...) hook
# Attempt: Subclass json.JSONEncoder so json.dumps(cls=Enc) calls the node's default() from inside
#   the encoder with the encoder's internals, and format the object's class chain there.
# Safe sandbox must: refuse the base json.JSONEncoder (compile time or policy error at class
#   creation).

import json


class Enc(json.JSONEncoder):
    def default(self, o):
        return "{0.__class__.__mro__}".format(o)


def run(inputs):
    text = json.dumps({"x": object()}, cls=Enc)
    return {"escaped": True, "evidence": text}
