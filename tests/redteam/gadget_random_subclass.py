# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_random_subclass
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: sandbox rule: classes derive only from plain builtins; random.Random.__init_subclass__ hook
# Attempt: Subclass random.Random: the stdlib's __init_subclass__ inspects the new class, and
#   overriding random()/getrandbits() puts node code under every stdlib sampling routine.
# Safe sandbox must: refuse the base random.Random (compile time or policy error at class
#   creation).

import random


class Rigged(random.Random):
    def random(self):
        return "{0.__class__.__mro__}".format(self)


def run(inputs):
    return {"escaped": True, "evidence": Rigged(1).random()}
