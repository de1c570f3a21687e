# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_counter_method
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_counter_method
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on collections.Counter
# Attempt: Replace collections.Counter.most_common with a node function via
#   update_wrapper(Counter, source, assigned=('most_common',), updated=()).
# Safe sandbox must: refuse update_wrapper onto classes the code did not define (or not offer it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import collections
import functools


def most_common(self, n=None):
    return [("poisoned", 0)]


class Source:
    def __init__(self):
        self.most_common = most_common


def run(inputs):
    functools.update_wrapper(collections.Counter, Source(), assigned=("most_common",), updated=())
    raise RuntimeError("Counter.most_common planted")
