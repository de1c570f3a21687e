"""Compile and run node code for one call, and turn whatever happens into one reply.

A reply is a JSON object with the request's id: ``{"id", "ok": true, "output",
"stdout", "stdout_truncated", "cpu_s"}`` or ``{"id", "ok": false, "error":
{"type", "message", "limit"?, "value"?}}``. The result crosses the boundary as
JSON of exact builtin types only, converted here under the call's limits, so
no object with hooks ever reaches the host.
"""

from __future__ import annotations

import gc
import json
import math
import resource
import signal
import sys
from typing import TYPE_CHECKING, Any

from .compile import UNAVAILABLE_BUILTINS, CompileRefusal, compile_node
from .guards import VIOLATIONS, GuardViolation, exact_str
from .namespace import PrintBuffer, PrintFlood, make_globals, make_plain_globals
from .replies import MESSAGE_CHARS, error_reply

if TYPE_CHECKING:
    from types import CodeType, TracebackType

MAX_DEPTH = 64
#: fixed sources one runner keeps compiled (a node has one; teacher verification brings many)
CACHE_ENTRIES = 256
#: Python refuses to print ints past sys.get_int_max_str_digits() digits (4300 by default)
MAX_INT_DIGITS = sys.get_int_max_str_digits()
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.3219)


class Invalid(Exception):
    """run() returned something that cannot cross the boundary."""


def to_json_value(value: Any, path: str = "output", depth: int = 0) -> Any:
    """Exact JSON types only: the host never sees an object whose hooks could run outside the limits."""
    if depth > MAX_DEPTH:
        raise Invalid(f"{path}: nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is int and value.bit_length() > _MAX_INT_BITS:
        raise Invalid(f"{path}: integer with more than {MAX_INT_DIGITS} digits cannot be written as JSON")
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise Invalid(f"{path}: {value!r} is not a JSON number")
        return value
    if kind is list or kind is tuple:
        return [to_json_value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if kind is dict:
        out = {}
        for key, item in dict.items(value):
            if type(key) is not str:
                raise Invalid(f"{path}: key of type {type(key).__name__} is not a string")
            out[key] = to_json_value(item, f"{path}.{key}", depth + 1)
        return out
    raise Invalid(f"{path}: {kind.__name__} is not a JSON value (use dict, list, str, int, float, bool, None)")


def _describe(exc: BaseException) -> str:
    """``Type: message`` without trusting the exception's own __str__ to behave."""
    try:
        text = exact_str(str(exc))
    except BaseException:  # noqa: BLE001 - node code's __str__ may raise anything
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text}"[:MESSAGE_CHARS]


def _node_line(exc: BaseException) -> str:
    # the base class's getset descriptor, read without the exception's own hooks (typeshed types the attribute)
    tb: TracebackType | None = BaseException.__traceback__.__get__(exc)  # type: ignore[union-attr]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<node>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""


class CallRunner:
    """Runs calls of one node under one policy (the per-call process, or the per-node worker)."""

    def __init__(self, config: dict[str, Any]) -> None:
        #: per_node: calls share this process, so each call's cyclic garbage is collected before it ends
        self.collect_after_call = config.get("mode") == "per_node"
        self.tainted = False  # a call left code that may still run: this process must not serve another
        self.allowed = frozenset(config["allowed_imports"])
        self.guard = config["guard"]  # restricted | none | off (the test-only switch)
        self.cpu_seconds = float(config["cpu_seconds"])
        self.memory_mb = int(config["memory_mb"])
        self.output_bytes = int(config["output_bytes"])
        self.cache: dict[str, Any] = {}

    def compile(self, source: str) -> CodeType:
        if self.guard == "restricted":
            return compile_node(source, self.allowed)
        try:  # language_guard: none, or the guard switched off for a test: plain Python
            return compile(source, "<node>", "exec")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            raise CompileRefusal([f"Line {getattr(exc, 'lineno', '?')}: {type(exc).__name__}: {exc}"]) from None

    def prepare(self, key: str, source: str) -> None:
        """Compile fixed code once (in the zygote: every later call's process inherits it).

        The oldest entry goes when the cache is full; a call for it is answered
        ``not_prepared`` and the host prepares it again.
        """
        if key not in self.cache:
            while len(self.cache) >= CACHE_ENTRIES:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = self.compile(source)

    @staticmethod
    def start_cpu_clock(seconds: float) -> None:
        """SIGPROF (whose default action ends the process) once this call has used ``seconds`` of CPU."""
        signal.signal(signal.SIGPROF, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_PROF, seconds)

    @staticmethod
    def stop_cpu_clock() -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)

    def run(self, request_id: str, op: str, payload: dict[str, Any], code: Any = None) -> dict[str, Any]:
        used = _cpu_seconds()
        try:
            if code is None:
                code = self.compile(exact_str(payload["source"]))
        except CompileRefusal as exc:
            return error_reply(request_id, "compile_refused", str(exc))
        except MemoryError:
            return error_reply(request_id, "memory", "compiling the code ran out of memory", "memory_mb")
        if op == "check":
            return {"id": request_id, "ok": True, "output": {}, "stdout": "", "stdout_truncated": False,
                    "cpu_s": _cpu_seconds() - used}
        buffer = PrintBuffer(self.output_bytes)
        if self.guard == "restricted":
            env = make_globals(self.allowed, buffer)
        else:
            env = make_plain_globals(None if self.guard == "off" else self.allowed, buffer)
        reply = self._execute(request_id, code, env, payload, buffer)
        if self.collect_after_call and not _collect_garbage():
            self.tainted = True
            return error_reply(request_id, "policy_violation", "the code leaves objects behind that keep running "
                               "code after the call ended (generators re-created from their own finally blocks)")
        if VIOLATIONS and (reply["ok"] or reply["error"]["type"] != "policy_violation"):
            # the code caught a guard's refusal and went on: a violation still ends the call
            return error_reply(request_id, "policy_violation", f"{VIOLATIONS[0]} (caught by the code, which "
                               "went on; a policy violation ends the call)")
        if reply["ok"]:
            reply["cpu_s"] = _cpu_seconds() - used
        return reply

    def _execute(self, request_id: str, code: Any, env: dict[str, Any], payload: dict[str, Any],
                 buffer: PrintBuffer) -> dict[str, Any]:
        try:
            exec(code, env)  # noqa: S102 - RestrictedPython-compiled code with guarded globals
            run = env.get("run")
            if not callable(run):
                return error_reply(request_id, "compile_refused", "the code does not define run(inputs)")
            result = run(json.loads(payload["inputs"]))  # a fresh copy: host objects are never shared
            if type(result) is not dict:
                raise Invalid(f"run() must return a dict, not {type(result).__name__}")
            output = to_json_value(result)
            body = json.dumps(output, separators=(",", ":"))  # ASCII, as it crosses the boundary
        except Invalid as exc:
            return error_reply(request_id, "invalid_output", str(exc))
        except GuardViolation as exc:
            return error_reply(request_id, "policy_violation", f"{exc}{_node_line(exc)}")
        except PrintFlood as exc:
            return error_reply(request_id, "output_too_large", f"print() output passed {self.output_bytes} bytes "
                               f"many times over ({exc.args[0]} characters)", "output_bytes")
        except MemoryError:
            env.clear()
            return error_reply(request_id, "memory", f"the code ran out of memory (limit {self.memory_mb} MiB)",
                               "memory_mb")
        except RecursionError as exc:
            return error_reply(request_id, "node_raised", f"{_describe(exc)}{_node_line(exc)}", value="RecursionError")
        except BaseException as exc:  # the node's own failure, reported, never fatal to the runner
            kind = type(exc)
            if kind is NameError and getattr(exc, "name", None) in UNAVAILABLE_BUILTINS:
                # `kind is NameError` makes exc a NameError, which mypy cannot see through `kind`
                return error_reply(request_id, "policy_violation",
                                   f"{exc.name}() is not available in the sandbox")  # type: ignore[attr-defined]
            if kind is BlockingIOError or (kind is RuntimeError and "can't start new thread" in str(exc)):
                return error_reply(request_id, "pids", f"{_describe(exc)}: the process/thread limit was reached",
                                   "pids")
            return error_reply(request_id, "node_raised", f"{_describe(exc)}{_node_line(exc)}", value=kind.__name__)
        finally:
            env.clear()
        size = len(body)
        if size > self.output_bytes:
            return error_reply(request_id, "output_too_large", f"the result is {size} bytes, over the limit of "
                               f"{self.output_bytes}", "output_bytes", size)
        # print output is capped at output_bytes characters; escaped as JSON it takes at most 6 bytes each
        return {"id": request_id, "ok": True, "output": output, "stdout": buffer.text(),
                "stdout_truncated": buffer.truncated}


def _collect_garbage(rounds: int = 8) -> bool:
    """Finalize what the call left in reference cycles (a suspended generator's `finally`) now, while the
    call's clock runs and its violations count, not inside a later call. False if it never settles."""
    for _ in range(rounds):
        if gc.collect() == 0:
            return True
    return False


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
