# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_re_findall_defaults
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_re_findall_defaults
# @source: functools.update_wrapper(assigned=('__defaults__',)) rewriting a stdlib function's defaults
# Attempt: Copy the __defaults__ of a node function (flags=re.IGNORECASE) onto re.findall, so
#   every later re.findall(pattern, string) ignores case.
# Safe sandbox must: refuse update_wrapper onto functions the code did not define (or not offer
#   it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import functools
import re


def template(pattern, string, flags=re.IGNORECASE):
    return None


def run(inputs):
    functools.update_wrapper(re.findall, template, assigned=("__defaults__",), updated=())
    raise RuntimeError("re.findall defaults planted")
