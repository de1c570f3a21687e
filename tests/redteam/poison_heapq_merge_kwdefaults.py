# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_heapq_merge_kwdefaults
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_heapq_merge_kwdefaults
# @source: operator.attrgetter('__kwdefaults__') plus operator.methodcaller('update') on a stdlib function
# Attempt: Read heapq.merge.__kwdefaults__ with operator.attrgetter and update it in place with
#   operator.methodcaller('update', {'reverse': True}): a method call, not a write the write hook
#   sees.
# Safe sandbox must: refuse the dunder read (attrgetter through the attribute guard, or not
#   offered).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import heapq
import operator


def run(inputs):
    defaults = operator.attrgetter("__kwdefaults__")(heapq.merge)
    operator.methodcaller("update", {"reverse": True})(defaults)
    raise RuntimeError("heapq.merge defaults planted")
