"""The restricted backend: RestrictedPython in a runner process behind the operating system's walls.

The host starts the runner from its own interpreter with an empty environment
and only the two pipes of the protocol; the runner imports what it needs,
then walls itself in (see ``runner/main.py``) before it reads any node code.
The host side owns every limit that must hold even if the code inside
escapes both the language guard and the walls: the wall clock (select with a
deadline, then SIGKILL of the whole process group), the CPU time of the call
(read from /proc, backed by the runner's own timers), and the size and
content of what comes back (see `Session`).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import SandboxUnavailable
from ..policy import Policy
from .base import SandboxBackend
from .session import Session, Transport, build_hello
from .syscalls import SeccompUnavailable, seccomp_programs

_TICK = os.sysconf("SC_CLK_TCK")
_START_TIMEOUT_S = 20.0
_POLL_S = 0.05
#: imported before the walls in the test-only guard-off mode: what an attacker with native code could reach
ATTACKER_PRELOAD = ("os", "posix", "socket", "subprocess", "ctypes", "pathlib", "threading", "signal", "select",
                    "mmap", "shutil", "tempfile", "io", "gc", "inspect", "importlib", "marshal", "pickle", "time",
                    "resource", "fcntl", "errno", "pty", "multiprocessing")


def _runner_command() -> list[str]:
    """Start the runner package (as ``sgde_runner``) without importing the rest of sgde."""
    import RestrictedPython
    runner_dir = Path(__file__).resolve().parent / "runner"
    site_dir = str(Path(RestrictedPython.__file__).resolve().parent.parent)
    boot = ("import sys; sys.path[:0] = [{site!r}]\n"
            "import importlib.util as u\n"
            "s = u.spec_from_file_location('sgde_runner', {init!r}, submodule_search_locations=[{pkg!r}])\n"
            "m = u.module_from_spec(s); sys.modules['sgde_runner'] = m; s.loader.exec_module(m)\n"
            "from sgde_runner.main import main; main(int(sys.argv[1]), int(sys.argv[2]))\n").format(
                site=site_dir, init=str(runner_dir / "__init__.py"), pkg=str(runner_dir))
    # -S: no site (paths are given), -s: no user site, -P: no script dir, -B: write no .pyc
    return [sys.executable, "-S", "-s", "-P", "-B", "-c", boot]


def _cpu_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as handle:
            return [int(p) for p in handle.read().split()]
    except (OSError, ValueError):
        return []


class PipeTransport(Transport):
    """The runner process and its two pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], read_fd: int, write_fd: int) -> None:
        super().__init__()
        self.proc, self.read_fd, self.write_fd = proc, read_fd, write_fd
        os.set_blocking(write_fd, False)  # a runner that stops reading must not block the host (see send)
        self.per_node = False

    def send(self, data: bytes, deadline: float) -> bool:
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _, ready, _ = select.select([], [self.write_fd], [], min(left, _POLL_S))
            if ready:
                try:
                    view = view[os.write(self.write_fd, view):]  # non-blocking: what fits now
                except BlockingIOError:
                    pass
        return True

    def _receive(self, timeout: float) -> bool | None:
        ready, _, _ = select.select([self.read_fd], [], [], timeout)
        if not ready:
            return False
        chunk = os.read(self.read_fd, 1 << 20)
        if not chunk:
            return None
        self.reader.feed(chunk)
        return True

    def exit_code(self) -> int | None:
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None
        return 128 - code if code < 0 else code

    def call_cpu_seconds(self) -> float | None:
        """per_call: CPU of the zygote's children (the call's process; the spare uses none).
        per_node: CPU of the runner itself (the caller subtracts what it had before the call)."""
        top = _children(self.proc.pid) or [self.proc.pid]  # the namespace's init, or the runner itself
        if self.per_node:
            return _cpu_of(top[0])
        total = 0.0
        for child in _children(top[0]):
            total += _cpu_of(child) or 0.0
        return total

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.read_fd = self.write_fd = -1


class RestrictedBackend(SandboxBackend):
    name = "restricted"

    def _start(self, node: str, policy: Policy, isolation: str) -> Session:
        if policy.language_guard != "restricted":
            raise SandboxUnavailable("language_guard: none needs backend: docker", node=node, field="language_guard")
        os_wall = "os_wall" not in self.testing_disable
        guard_off = "language_guard" in self.testing_disable
        try:
            seccomp = seccomp_programs() if os_wall else None
        except SeccompUnavailable:
            seccomp = None  # reported as a missing wall; a policy that requires it refuses
        hello = build_hello(policy, isolation, guard="off" if guard_off else "restricted", os_wall=os_wall,
                            seccomp=seccomp, in_container=False, preload=ATTACKER_PRELOAD if guard_off else ())
        to_runner_r, to_runner_w = os.pipe()
        from_runner_r, from_runner_w = os.pipe()
        try:
            proc = subprocess.Popen(
                _runner_command() + [str(to_runner_r), str(from_runner_w)], pass_fds=(to_runner_r, from_runner_w),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                env={"PYTHONHASHSEED": "0"}, cwd="/", start_new_session=True)
        except OSError as exc:
            for fd in (to_runner_r, to_runner_w, from_runner_r, from_runner_w):
                os.close(fd)
            raise SandboxUnavailable(f"cannot start a sandbox runner: {exc}", node=node) from None
        os.close(to_runner_r)
        os.close(from_runner_w)
        transport = PipeTransport(proc, from_runner_r, to_runner_w)
        transport.per_node = isolation == "per_node"
        ready = self._handshake(transport, hello, node)
        return Session(transport, policy, isolation, node, ready)

    @staticmethod
    def _handshake(transport: PipeTransport, hello: dict[str, Any], node: str) -> dict[str, Any]:
        from . import protocol
        try:
            transport.send(protocol.encode(hello), time.monotonic() + _START_TIMEOUT_S)
            frame = transport.read_frame(time.monotonic() + _START_TIMEOUT_S, 1 << 20, lambda: None)
            ready = protocol.decode_json(frame) if isinstance(frame, bytes) else frame
        except (OSError, SandboxUnavailable, ValueError) as exc:
            ready = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # an undecodable ready message
            ready = f"{type(exc).__name__}: {exc}"
        stderr = transport.proc.stderr
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            transport.kill()
            detail = stderr.read(1 << 16).decode(errors="replace")[-1500:] if stderr is not None else ""
            if stderr is not None:
                stderr.close()
            raise SandboxUnavailable(f"the sandbox runner did not start ({ready!r})"
                                     f"{': ' + detail if detail else ''}", node=node)
        if stderr is not None:
            stderr.close()  # the runner points its stderr at /dev/null once ready
        return ready
