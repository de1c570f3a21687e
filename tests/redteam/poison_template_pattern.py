# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: poison_template_pattern
# @category: isolation
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @victim: victim_template_pattern
# @source: string.Template keeps its compiled placeholder regex in the class attribute `pattern`
# Attempt: Replace string.Template.pattern with a regex whose delimiter is '#'
#   (update_wrapper(string.Template, source, assigned=('pattern',), updated=())), so a later
#   call's $-placeholders stop working and #-words get substituted.
# Safe sandbox must: refuse update_wrapper onto classes the code did not define (or not offer it).
# Note: the file raises at the end, so its outcome is an error whether the sandbox refuses the
#   write or allows it; the victim decides.

import functools
import re
import string


class Source:
    def __init__(self):
        self.pattern = re.compile(r"\#(?:(?P<escaped>\#)|(?P<named>[a-z]+)|\{(?P<braced>[a-z]+)\}|(?P<invalid>))")


def run(inputs):
    functools.update_wrapper(string.Template, Source(), assigned=("pattern",), updated=())
    raise RuntimeError("Template.pattern planted")
