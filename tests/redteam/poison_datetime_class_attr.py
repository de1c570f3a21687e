# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_datetime_class_attr
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_datetime_class_attr
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on datetime.date (a C type)
# Attempt: Try to replace datetime.date.max through update_wrapper's setattr; CPython refuses
#   writes to static types, so this pair documents the boundary: the victim's date.max must stay
#   9999-12-31.
# Safe sandbox must: refuse it or let CPython's TypeError stop it; never let the victim see a
#   changed datetime.date.
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import datetime
import functools


class Source:
    def __init__(self):
        self.max = datetime.date(2000, 1, 1)


def run(inputs):
    functools.update_wrapper(datetime.date, Source(), assigned=("max",), updated=())
    raise RuntimeError("date.max planted")
