# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_property_attrgetter
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: property(fget=...) makes the descriptor protocol call a stdlib callable on the node's behalf
# Attempt: Install operator.attrgetter('__class__.__base__.__subclasses__') as a property's fget
#   on an own class: reading the plain attribute `probe.classes` makes C code call attrgetter,
#   which walks the dunders.
# Safe sandbox must: attrgetter must walk through the guard wherever it is called from (or not be
#   offered); never return escaped=True.

import operator


class Probe:
    classes = property(operator.attrgetter("__class__.__base__.__subclasses__"))


def run(inputs):
    listing = Probe().classes()
    return {"escaped": True, "evidence": len(listing)}
