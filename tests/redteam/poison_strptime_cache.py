# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_strptime_cache
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_strptime_cache
# @source: _strptime keeps a process-wide _regex_cache keyed by the format string; a str subclass lying in __eq__/__hash__
# Attempt: Parse a date with a format that is a str subclass: its text is '%d/%m/%Y' but it hashes
#   like '%m/%d/%Y' and equals everything, so _strptime's format cache answers a later call's
#   '%m/%d/%Y' with the day-first regex.
# Safe sandbox must: keep _strptime's cache per call (or refuse lying str subclasses as formats);
#   the victim must get 4 March.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import datetime


class Fmt(str):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return hash("%m/%d/%Y")


def run(inputs):
    datetime.datetime.strptime("25/12/2024", Fmt("%d/%m/%Y"))
    raise RuntimeError("strptime cache planted")
