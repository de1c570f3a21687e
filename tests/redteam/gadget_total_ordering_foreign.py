# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_total_ordering_foreign
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.total_ordering setattr()s comparison methods onto the class it is given
# Attempt: Apply functools.total_ordering to stdlib classes the code does not own
#   (collections.UserString, statistics.NormalDist), i.e. use it as a class-attribute writer
#   outside the write guard.
# Safe sandbox must: refuse classes the code did not define (or raise); never return escaped=True.
# Note: no public stdlib class in the allowed modules defines only some ordering methods, so
#   CPython itself either changes nothing (UserString) or raises ValueError (NormalDist); the file
#   ends in an error either way.

import collections
import functools
import statistics


def run(inputs):
    functools.total_ordering(collections.UserString)
    functools.total_ordering(statistics.NormalDist)
    return {"escaped": True, "evidence": "total_ordering wrote onto NormalDist"}
