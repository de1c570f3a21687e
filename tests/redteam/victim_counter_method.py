# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_counter_method
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"top": [["a", 5], ["b", 2]]}
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on collections.Counter
# Attempt: Count letters and take the two most common.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_counter_method on the same node in the same sandbox.
# Note: victim of poison_counter_method; @expected_output is what plain CPython 3.11 returns when
#   this file runs alone in a fresh interpreter.

import collections


def run(inputs):
    top = collections.Counter("abracadabra").most_common(2)
    return {"top": [[letter, count] for letter, count in top]}
