# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_json_encoder_default
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"text": null}
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on json.JSONEncoder
# Attempt: Serialise a Decimal and expect json's TypeError.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_json_encoder_default on the same node in the same sandbox.
# Note: victim of poison_json_encoder_default; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import decimal
import json


def run(inputs):
    try:
        text = json.dumps({"price": decimal.Decimal("1.50")})
    except TypeError:
        text = None
    return {"text": text}
