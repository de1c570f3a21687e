"""The error replies a runner sends, including the ones that explain how a call's process ended.

Imported by the host too (to explain how a per-node worker ended), so it needs nothing but the
standard library.
"""

from __future__ import annotations

import os
import signal
from typing import Any

MESSAGE_CHARS = 2000


def error_reply(request_id: str, type_name: str, message: str, limit: str | None = None,
                value: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_name, "message": message[:MESSAGE_CHARS]}
    if limit:
        error["limit"] = limit
    if value is not None:
        error["value"] = value
    return {"id": request_id, "ok": False, "error": error}


def exit_reply(request_id: str, exit_code: int, limits: dict[str, Any]) -> dict[str, Any]:
    """Why a process ended without a reply, from its exit code (128 + signal when a signal ended it)."""
    sig = exit_code - 128 if exit_code > 128 else None
    if sig in (signal.SIGPROF, signal.SIGXCPU):
        return error_reply(request_id, "timeout", f"the code used more than {limits['cpu_seconds']:g} CPU seconds "
                           "and was killed", "cpu_seconds", limits["cpu_seconds"])
    if sig == signal.SIGSYS:
        return error_reply(request_id, "policy_violation", "the code made a system call the sandbox forbids "
                           "(process creation, exec, sockets, ptrace, mounts, ...) and was killed", "seccomp")
    if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS):
        return error_reply(request_id, "memory", f"the sandboxed process died with signal {sig}, most likely out "
                           f"of memory (limit {limits['memory_mb']} MiB)", "memory_mb", limits["memory_mb"])
    what = f"signal {sig}" if sig else f"exit status {exit_code}"
    return error_reply(request_id, "sandbox_crashed", f"the sandboxed process ended ({what}) without a reply")


def wait_code(status: int) -> int:
    """os.waitpid's status as an exit code: 128 + signal when a signal ended the process."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
