"""The sandbox worker process: compiles and runs node code under rlimits.

Started by the restricted backend as ``python -m sgde.runtime.sandbox.worker
MEMORY_MB CPU_BUDGET_S``. It moves the protocol pipes off fds 0/1 and points
0/1/2 at /dev/null, sets its rlimits, then serves requests until stdin closes.
The host enforces the wall clock and kills the whole process on overrun; the
worker's own rlimits are the second line (RLIMIT_CPU kills with SIGXCPU even
in a C loop that never returns to Python).
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import time
from hashlib import sha256
from typing import Any

from . import protocol
from .restricted_compile import UNAVAILABLE_BUILTINS, CompileRefusal, compile_node
from .restricted_guards import GuardViolation, PrintBuffer, PrintFlood, make_globals, make_plain_globals, warm_up

MAX_DEPTH = 64
#: Python refuses to print ints past sys.get_int_max_str_digits() digits (4300 by default)
_MAX_INT_BITS = int(sys.get_int_max_str_digits() * 3.3219)


def _isolate_fds() -> tuple[int, int]:
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    return rfd, wfd


def _set_limits(memory_mb: int, cpu_budget_s: int, in_container: bool) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_budget_s, cpu_budget_s + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if in_container:  # open files, file size and processes come from the policy as docker ulimits / pids limit
        return
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    try:  # per user: root ignores it, others cannot fork
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    except (ValueError, OSError):
        pass


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def to_json_value(value: Any, path: str = "output", depth: int = 0) -> Any:
    """Exact JSON types only: the host never sees an object whose hooks could run outside the limits."""
    if depth > MAX_DEPTH:
        raise _Invalid(f"{path}: nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is int and value.bit_length() > _MAX_INT_BITS:
        raise _Invalid(f"{path}: integer with more than {sys.get_int_max_str_digits()} digits cannot be written "
                       "as JSON")
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _Invalid(f"{path}: {value!r} is not a JSON number")
        return value
    if kind is list or kind is tuple:
        return [to_json_value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Invalid(f"{path}: key {key!r} is not a string")
            out[key] = to_json_value(item, f"{path}.{key}", depth + 1)
        return out
    raise _Invalid(f"{path}: {kind.__name__} is not a JSON value (use dict, list, str, int, float, bool, None)")


class _Invalid(Exception):
    pass


def _error(type_name: str, message: str, limit: str | None = None, value: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_name, "message": message}
    if limit:
        error["limit"] = limit
    if value is not None:
        error["value"] = value
    return {"ok": False, "error": error}


def _node_line(exc: BaseException) -> str:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<node>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (line {line})" if line else ""


class Worker:
    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}
        warm_up()

    def _compiled(self, source: str, allowed: frozenset[str], guard: str):
        key = sha256((guard + "\0" + ",".join(sorted(allowed)) + "\0" + source).encode()).hexdigest()
        code = self.cache.get(key)
        if code is None:
            if guard == "restricted":
                code = compile_node(source, allowed)
            else:  # language_guard: none (docker only): plain Python, the container is the wall
                try:
                    code = compile(source, "<node>", "exec")
                except (SyntaxError, ValueError) as exc:
                    raise CompileRefusal([f"Line {getattr(exc, 'lineno', '?')}: {type(exc).__name__}: {exc}"]) \
                        from None
            if len(self.cache) > 64:
                self.cache.clear()
            self.cache[key] = code
        return code

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        allowed = frozenset(request["allowed_imports"])
        guard = request.get("language_guard", "restricted")
        used = _cpu_seconds()
        # per-call CPU: SIGXCPU at the soft limit (its default action kills the process)
        soft = int(math.ceil(used + request["cpu_seconds"]))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard), hard))
        try:
            code = self._compiled(request["source"], allowed, guard)
        except CompileRefusal as exc:
            return _error("compile_refused", str(exc))
        except MemoryError:
            return _error("memory", "compiling the code ran out of memory", "memory_mb")
        if request.get("op") == "check":
            return {"ok": True, "output": {}}
        buffer = PrintBuffer(request["output_bytes"])
        env = make_globals(allowed, buffer) if guard == "restricted" else make_plain_globals(allowed, buffer)
        try:
            exec(code, env)  # noqa: S102 - RestrictedPython-compiled code with guarded globals
            run = env.get("run")
            if not callable(run):
                return _error("compile_refused", "the code does not define run(inputs)")
            result = run(json.loads(request["inputs"]))  # a fresh copy: host objects are never shared
            if type(result) is not dict:
                raise _Invalid(f"run() must return a dict, not {type(result).__name__}")
            output = to_json_value(result)
            body = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
        except _Invalid as exc:
            return _error("invalid_output", str(exc))
        except GuardViolation as exc:
            return _error("policy_violation", f"{exc}{_node_line(exc)}")
        except PrintFlood as exc:
            return _error("output_too_large", f"print() output passed {request['output_bytes']} bytes many times "
                          f"over ({exc.args[0]} characters)", "output_bytes")
        except MemoryError:
            env.clear()
            return _error("memory", f"the code ran out of memory (limit {request['memory_mb']} MiB)", "memory_mb")
        except (BlockingIOError, RuntimeError) as exc:
            if isinstance(exc, BlockingIOError) or "can't start new thread" in str(exc):
                # fork()/clone() refused: the container's pids limit (plain mode only; restricted code cannot fork)
                return _error("pids", f"{type(exc).__name__}: {exc}: the process/thread limit was reached", "pids")
            return _error("node_raised", f"{type(exc).__name__}: {exc}{_node_line(exc)}"[:2000],
                          value=type(exc).__name__)
        except RecursionError as exc:
            return _error("node_raised", f"RecursionError: {exc}{_node_line(exc)}", value="RecursionError")
        except NameError as exc:
            if getattr(exc, "name", None) in UNAVAILABLE_BUILTINS:
                return _error("policy_violation", f"{exc.name}() is not available in the sandbox")
            return _error("node_raised", f"NameError: {exc}{_node_line(exc)}", value="NameError")
        except BaseException as exc:  # the node's own failure, reported, never fatal to the worker
            return _error("node_raised", f"{type(exc).__name__}: {exc}{_node_line(exc)}"[:2000],
                          value=type(exc).__name__)
        finally:
            env.clear()
        if len(body.encode("utf-8")) > request["output_bytes"]:
            return _error("output_too_large", f"the result is {len(body)} bytes, over the limit of "
                          f"{request['output_bytes']}", "output_bytes", len(body))
        return {"ok": True, "output_json": body, "stdout": buffer.text(), "stdout_truncated": buffer.truncated,
                "cpu_s": _cpu_seconds() - used}


def _init_shim() -> None:
    """As PID 1 in a container, the kernel ignores default-action signals such as RLIMIT_CPU's
    SIGXCPU; so PID 1 forks the real worker and only waits, exiting with its status."""
    child = os.fork()
    if child == 0:
        return
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def main() -> None:
    memory_mb, cpu_budget = int(sys.argv[1]), int(sys.argv[2])
    in_container = "--in-container" in sys.argv[3:]
    if os.getpid() == 1:
        _init_shim()
    rfd, wfd = _isolate_fds()
    worker = Worker()  # imports and warm-up happen before the limits bite
    _set_limits(memory_mb, cpu_budget, in_container)
    pid = os.getpid()
    protocol.write_all(wfd, protocol.encode({"ready": True, "pid": os.getpid()}))
    while True:
        try:
            request = protocol.read_message(rfd)
        except EOFError:
            return
        started = time.perf_counter()
        try:
            response = worker.handle(request)
        except MemoryError:
            response = _error("memory", "the sandbox ran out of memory", "memory_mb")
        if os.getpid() != pid:  # a child forked by node code (plain mode): it must never answer
            os._exit(0)
        response["cpu_total"] = _cpu_seconds()
        response["worker_s"] = time.perf_counter() - started
        protocol.write_all(wfd, protocol.encode(response))


if __name__ == "__main__":
    main()
