# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_statistics_kwdefaults
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_statistics_kwdefaults
# @source: functools.update_wrapper(assigned=('__kwdefaults__',)) rewriting statistics.quantiles' keyword defaults
# Attempt: Copy the keyword defaults of a node function (n=10) onto statistics.quantiles, so a
#   later call's quantiles(data) returns deciles instead of quartiles.
# Safe sandbox must: refuse update_wrapper onto functions the code did not define (or not offer
#   it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import functools
import statistics


def template(data, *, n=10, method="exclusive"):
    return None


def run(inputs):
    functools.update_wrapper(statistics.quantiles, template, assigned=("__kwdefaults__",), updated=())
    raise RuntimeError("quantiles defaults planted")
