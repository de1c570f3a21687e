# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_json_kwdefaults
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_json_kwdefaults
# @source: json.dumps keeps its keyword defaults in a shared __kwdefaults__ dict; operator.attrgetter reads it
# Attempt: Read json.dumps.__kwdefaults__ with operator.attrgetter and set sort_keys=True in it: a
#   plain dict write, allowed by the write hook, that changes json.dumps for the rest of the
#   process.
# Safe sandbox must: refuse the dunder read (attrgetter through the attribute guard, or not
#   offered).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import json
import operator


def run(inputs):
    defaults = operator.attrgetter("__kwdefaults__")(json.dumps)
    defaults["sort_keys"] = True
    raise RuntimeError("json.dumps defaults planted")
