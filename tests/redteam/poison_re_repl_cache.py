# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_re_repl_cache
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_re_repl_cache
# @source: re._compile_repl is a functools.lru_cache keyed by (repl, pattern); a str subclass lying in __eq__/__hash__
# Attempt: Call re.sub with a replacement template that is a str subclass: its text is [\1] but it
#   hashes like <\1> and equals everything, so the process-wide lru_cache of parsed templates
#   stores [\1] under a key that a later call's <\1> finds.
# Safe sandbox must: keep stdlib caches per call (re.purge() clears this one too) or refuse lying
#   str subclasses in re calls; the victim must get <1>.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import re


class Repl(str):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash("<\\1>")


def run(inputs):
    re.sub(r"(\d+)", Repl("[\\1]"), "x1")
    raise RuntimeError("re template cache planted")
