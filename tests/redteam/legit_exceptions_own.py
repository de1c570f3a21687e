# Red-team corpus for the sandboxed code-generation runtime.
# Contract: the module defines run(inputs: dict) -> dict. For attack files, a returned
# {'escaped': True, ...} means the attack WORKED (sandbox failure).
# @id: legit_exceptions_own
# @category: legit_must_run
# @expect: ok   (reject = compile-time refusal or policy error; limit = killed/stopped by a resource limit; error = any exception, fast; ok = must run)
# @layer: both
# @raw_safe: yes   (yes = payload is benign enough to run unsandboxed to validate the snippet)
# @expected_output: {"log": [12, "done", "done", 0, "done", "done"], "message": "plain", "names": ["ParseError", "TypeError", "TypeError", "KeyError", "'missing'"]}
# @source: over-blocking probe
# Attempt: own exception hierarchy, raise from, finally, type(e).__name__ in an except handler
# Safe sandbox must: run to completion and return exactly @expected_output (JSON equality).

class AppError(Exception):
    pass


class ParseError(AppError):
    def __init__(self, text, position):
        super().__init__(f"cannot parse {text!r} at {position}")
        self.position = position


def parse_int(text):
    try:
        return int(text)
    except ValueError as exc:
        raise ParseError(text, 0) from exc


def run(inputs):
    names = []
    log = []
    for value in ["12", "x1", None, [1]]:
        try:
            try:
                result = parse_int(value)
                log.append(result)
            finally:
                log.append("done")
        except ParseError as e:
            names.append(type(e).__name__)
            log.append(e.position)
        except (TypeError, KeyError) as e:
            names.append(type(e).__name__)
    try:
        {}["missing"]
    except LookupError as e:
        names.append(type(e).__name__)
        names.append(repr(e.args[0]))
    try:
        raise AppError("plain")
    except AppError as e:
        message = str(e)
    return {"names": names, "log": log, "message": message}
