# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_wraps_decoder_globals
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.wraps(updated=('__globals__',)); json.JSONDecoder().parse_object is json.decoder.JSONObject
# Attempt: Take a plain Python function from a public attribute of a stdlib object
#   (json.JSONDecoder().parse_object) and let functools.wraps(..., updated=('__globals__',)) merge
#   json.decoder's globals into the sandbox's: the bare name `re` becomes the real re module and
#   re.enum.sys.modules['os'] follows.
# Safe sandbox must: refuse non-default names in wraps/update_wrapper (or not offer them); never
#   return escaped=True.

import functools
import json


def sink():
    return None


def run(inputs):
    parse_object = json.JSONDecoder().parse_object
    functools.wraps(parse_object, assigned=(), updated=("__globals__",))(sink)
    uid = re.enum.sys.modules["os"].getuid()
    return {"escaped": True, "evidence": uid}
