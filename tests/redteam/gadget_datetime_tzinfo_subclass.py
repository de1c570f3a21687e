# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: gadget_datetime_tzinfo_subclass
# @category: escape
# @expect: reject   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @source: sandbox rule: classes derive only from plain builtins; datetime tzinfo hooks
# Attempt: Subclass datetime.tzinfo so datetime's C code calls utcoffset()/tzname() on the node's
#   object with its own datetime arguments, and smuggle an attribute walk into tzname's output.
# Safe sandbox must: refuse the base datetime.tzinfo (compile time or policy error at class
#   creation).

import datetime


class Zone(datetime.tzinfo):
    def utcoffset(self, dt):
        return datetime.timedelta(0)

    def tzname(self, dt):
        return "{0.__class__.__mro__}".format(dt)


def run(inputs):
    stamp = datetime.datetime(2024, 1, 1, tzinfo=Zone())
    return {"escaped": True, "evidence": stamp.strftime("%Z")}
