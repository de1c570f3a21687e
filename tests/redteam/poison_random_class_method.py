# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_random_class_method
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_random_class_method
# @source: functools.update_wrapper(assigned=...) as a setattr gadget on a stdlib class
# Attempt: Use functools.update_wrapper(random.Random, source, assigned=('random',), updated=())
#   to set random.Random.random to a node function that returns 0.5: every Random instance in the
#   process, the module facade's included, would then return it.
# Safe sandbox must: refuse update_wrapper onto classes the code did not define (or not offer it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import functools
import random


def fixed(self):
    return 0.5


class Source:
    def __init__(self):
        self.random = fixed


def run(inputs):
    functools.update_wrapper(random.Random, Source(), assigned=("random",), updated=())
    raise RuntimeError("Random.random planted")
