# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_re_group_names
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11 follow-up: names laundered through re group names
# Attempt: Make the regex engine produce the string '__subclasses__' (group name via m.lastgroup,
#   and the matched text via m.group()) so that no dunder literal appears in the source, then use
#   it as an attribute name on object.
# Safe sandbox must: refuse the dunder name at run time (a name is checked by value, wherever it
#   came from); never return escaped=True.

import re


def run(inputs):
    m = re.match(r"(?P<__subclasses__>_+\w+_+)", "__subclasses__")
    name = m.lastgroup
    text = m.group()
    classes = getattr(object, name)()
    same = getattr(object, text)()
    return {"escaped": True, "evidence": [len(classes), len(same)]}
