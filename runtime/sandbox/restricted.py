"""The restricted backend: RestrictedPython in warm worker processes that carry the limits.

The host side owns every limit that must hold even if the code inside escapes
RestrictedPython: the wall clock (select with a deadline, then SIGKILL), the
CPU time (polled from /proc, backed by the worker's RLIMIT_CPU), and the size
of what comes back (a frame over the cap kills the worker unread). A worker
that hit a limit is replaced, so the next call works.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from ..errors import MemoryLimit, OutputTooLarge, SandboxCrashed, SandboxUnavailable, TimeoutLimit
from ..policy import Policy
from . import protocol
from .base import SandboxBackend, raise_for_reply
_TICK = os.sysconf("SC_CLK_TCK")
_START_TIMEOUT_S = 20.0
#: CPU seconds a worker may use over its life before it is replaced (RLIMIT_CPU's hard ceiling)
_LIFETIME_CPU_S = 600


def _proc_cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


class _Worker:
    """One warm worker process for one (node, policy)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sgde.runtime.sandbox.worker", str(policy.memory_mb), str(_LIFETIME_CPU_S)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd="/",
            start_new_session=True)
        self.cpu_total = 0.0
        self.lock = threading.Lock()
        ready = self._read(time.monotonic() + _START_TIMEOUT_S, 4096, cpu_limit=None)
        if not isinstance(ready, dict) or not ready.get("ready"):
            self.kill()
            raise SandboxUnavailable(f"the sandbox worker did not start: {ready!r}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def _read(self, deadline: float, max_bytes: int, cpu_limit: float | None) -> Any:
        """Read one frame before ``deadline``; kill the worker on any limit. Returns the message or a str tag."""
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        need = protocol.HEADER.size
        size = None
        cpu_start = _proc_cpu_seconds(self.proc.pid) if cpu_limit is not None else None
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "wall"
            ready, _, _ = select.select([fd], [], [], min(deadline - now, 0.05))
            if not ready:
                if cpu_limit is not None and cpu_start is not None:
                    used = _proc_cpu_seconds(self.proc.pid)
                    if used is not None and used - cpu_start > cpu_limit:
                        return "cpu"
                continue
            chunk = os.read(fd, max(need - len(buf), 1) if size is None else min(size - len(buf), 1 << 20))
            if not chunk:
                return "eof"
            buf += chunk
            if size is None and len(buf) >= need:
                (size,) = protocol.HEADER.unpack(bytes(buf[:need]))
                if size > max_bytes:
                    return "too_big"
                del buf[:need]
            if size is not None and len(buf) >= size:
                return json.loads(bytes(buf[:size]))

    def call(self, request: dict[str, Any], node: str) -> tuple[dict[str, Any], float]:
        policy = self.policy
        started = time.monotonic()
        try:
            protocol.write_all(self.proc.stdin.fileno(), protocol.encode(request))
        except (BrokenPipeError, OSError):
            self.kill()
            raise SandboxCrashed("the sandbox worker is gone; retry the call", node=node) from None
        # the result, its print output and JSON escaping overhead
        max_bytes = 3 * policy.output_bytes + 65536
        reply = self._read(started + policy.wall_seconds, max_bytes, cpu_limit=policy.cpu_seconds + 0.25)
        elapsed = time.monotonic() - started
        if isinstance(reply, dict):
            self.cpu_total = reply.get("cpu_total", self.cpu_total)
            return reply, elapsed
        self.kill()
        returncode = self.proc.returncode
        if reply == "wall":
            raise TimeoutLimit(f"the code ran past the wall-clock limit of {policy.wall_seconds:g} s and was killed",
                               node=node, limit="wall_seconds", value=policy.wall_seconds)
        if reply == "cpu" or returncode == -signal.SIGXCPU:
            raise TimeoutLimit(f"the code used more than {policy.cpu_seconds:g} CPU seconds and was killed",
                               node=node, limit="cpu_seconds", value=policy.cpu_seconds)
        if reply == "too_big":
            raise OutputTooLarge(f"the result passed the output limit of {policy.output_bytes} bytes",
                                 node=node, limit="output_bytes", value=policy.output_bytes)
        if returncode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS) and elapsed < policy.wall_seconds:
            # with RLIMIT_AS in force, an allocation failing in C code can abort the interpreter
            raise MemoryLimit(f"the sandbox worker died with signal {-returncode}, most likely out of memory "
                              f"(limit {policy.memory_mb} MiB)", node=node, limit="memory_mb",
                              value=policy.memory_mb)
        raise SandboxCrashed(f"the sandbox worker died (exit status {returncode})", node=node)


class RestrictedBackend(SandboxBackend):
    name = "restricted"

    def __init__(self) -> None:
        self._workers: dict[tuple[str, Policy], _Worker] = {}
        self._lock = threading.Lock()

    def _worker(self, node: str, policy: Policy) -> tuple[_Worker, bool]:
        key = (node, policy)
        with self._lock:
            worker = self._workers.get(key)
            if worker is not None and worker.alive() and worker.cpu_total + policy.cpu_seconds + 2 < _LIFETIME_CPU_S:
                return worker, False
            if worker is not None:
                worker.kill()
            try:
                worker = self._workers[key] = _Worker(policy)
            except OSError as exc:
                raise SandboxUnavailable(f"cannot start a sandbox worker: {exc}", node=node) from None
            return worker, True

    def _exchange(self, request: dict[str, Any], policy: Policy, node: str) -> tuple[dict[str, Any], float, bool]:
        if policy.language_guard != "restricted":
            raise SandboxUnavailable("language_guard: none needs backend: docker", node=node, field="language_guard")
        worker, started = self._worker(node, policy)
        with worker.lock:
            reply, elapsed = worker.call(request, node)
        raise_for_reply(reply, node)
        return reply, elapsed, started

    def close(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.kill()
