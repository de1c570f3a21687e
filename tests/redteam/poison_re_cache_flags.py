# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_re_cache_flags
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_re_cache_flags
# @source: re._compile caches by (type, pattern, flags); an int subclass lying in __eq__/__hash__ collides with flags=0
# Attempt: Compile 'colour' with flags=Flag(2) (IGNORECASE) where Flag is an int subclass that
#   hashes like 0 and equals everything: re's module-level cache stores the case-insensitive
#   pattern under a key equal to (str, 'colour', 0), so a later call's plain re.search('colour',
#   ...) gets it back.
# Safe sandbox must: keep stdlib caches per call (e.g. re.purge() before each call, or a fresh
#   process) or refuse lying flag objects; the victim must not match.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import re


class Flag(int):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


def run(inputs):
    re.compile("colour", Flag(re.IGNORECASE))
    raise RuntimeError("re cache planted")
