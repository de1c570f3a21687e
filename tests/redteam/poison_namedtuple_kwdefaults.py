# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_namedtuple_kwdefaults
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_namedtuple_kwdefaults
# @source: functools.wraps(assigned=('__kwdefaults__',)) rewriting collections.namedtuple's keyword defaults
# Attempt: Apply functools.wraps(template, assigned=('__kwdefaults__',), updated=()) to
#   collections.namedtuple so rename=True becomes its default: a later call's invalid field names
#   are silently renamed instead of raising ValueError.
# Safe sandbox must: refuse wraps/update_wrapper onto functions the code did not define (or not
#   offer them).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import collections
import functools


def template(typename, field_names, *, rename=True, defaults=None, module=None):
    return None


def run(inputs):
    functools.wraps(template, assigned=("__kwdefaults__",), updated=())(collections.namedtuple)
    raise RuntimeError("namedtuple defaults planted")
