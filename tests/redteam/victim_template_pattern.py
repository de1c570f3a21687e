# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: victim_template_pattern
# @category: isolation
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"text": "ann paid #amount"}
# @source: string.Template keeps its compiled placeholder regex in the class attribute `pattern`
# Attempt: Substitute $-placeholders with string.Template.
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality), also
#   when it runs right after poison_template_pattern on the same node in the same sandbox.
# Note: victim of poison_template_pattern; @expected_output is what plain CPython 3.11 returns
#   when this file runs alone in a fresh interpreter.

import string


def run(inputs):
    text = string.Template("$who paid #amount").substitute(who="ann", amount="5")
    return {"text": text}
