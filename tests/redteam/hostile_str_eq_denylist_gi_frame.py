# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: hostile_str_eq_denylist_gi_frame
# @category: introspection
# @expect: error   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: issue #11: hostile str subclass; __eq__/__hash__ lying to a denylist membership test
# Attempt: Ask for gi_frame (a denylisted name without underscores) with a str subclass whose
#   __hash__ is the real one but whose __eq__ answers False the first three times it is compared:
#   the guard's `name in DENIED` (and `name in ('format', 'format_map')`) see no match, the
#   type-dict lookup done later by the builtin getattr sees a match and returns the generator's
#   frame.
# Safe sandbox must: check an exact str copy of the name (never the caller's object) against the
#   denylist and look up that same copy, or refuse str subclasses as names; never return
#   escaped=True.
# Note: the comparison count is tuned to a guard that does one set lookup and one tuple membership
#   test; any guard that keeps using the caller's object is open to some count.

class Name(str):
    def __init__(self, text):
        self.compared = 0

    def __eq__(self, other):
        self.compared += 1
        return self.compared > 3

    def __hash__(self):
        return hash(str(self))


def run(inputs):
    gen = (n for n in [1, 2])
    frame = getattr(gen, Name("gi_frame"))
    shown = repr(frame)
    if shown.startswith("<frame"):
        return {"escaped": True, "evidence": shown[:60]}
    raise LookupError("no frame object came back")
