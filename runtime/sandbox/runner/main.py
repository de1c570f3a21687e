"""The sandbox runner's entry point: read the host's hello, warm up, wall in, serve.

The same package runs as the restricted backend's worker (started by the host
from its own interpreter) and inside the Docker image (as ``sgde_runner``).
Order matters and is the point of this module:

1. read the hello (limits, mode, the seccomp programs) from the host;
2. import and warm everything node code may need: after step 3 there is no
   filesystem to import from;
3. put up the operating-system wall (``confine``). Outside a container: new
   mount/network/IPC/UTS/PID namespaces (and a user namespace when not
   started as root), an empty read-only root, no capabilities, an
   unprivileged uid, not dumpable, no_new_privs, Landlock, seccomp. Inside one,
   the container already isolates and the runner adds the last four;
4. report which walls are in force, then serve: ``per_call`` through a zygote
   that forks a fresh process for every call, ``per_node`` in this process
   (reviewed code only, chosen by policy).

Nothing here reads node code before step 3 is complete.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from . import confine, framing
from .execute import CallRunner
from .facades import warm_up
from .replies import error_reply, wait_code
from .zygote import ENVELOPE_CAP, Zygote, not_prepared, private_buffer, set_call_limits

if TYPE_CHECKING:
    from collections.abc import Callable

#: every module node code can ever import, whatever the policy (stdlib code imports some lazily)
IMPORTABLE = ("math", "cmath", "fractions", "decimal", "statistics", "re", "itertools", "functools",
              "datetime", "json", "collections", "string", "heapq", "bisect", "operator", "random")
_LIFETIME_CPU_S = 600
_HELLO_CAP = 1 << 20


class Walls:
    """Which walls are in force, for the ready message (and `sgde sandbox doctor`)."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def attempt(self, name: str, step: Callable[..., Any], *args: Any) -> Any:
        try:
            result = step(*args)
        except (OSError, confine.WallError) as exc:
            self.state[name] = False
            self.errors[name] = str(exc)
            return None
        self.state[name] = True
        return True if result is None else result


#: modules CPython or the stdlib import lazily, mid-call (the parser normalises non-ASCII names with
#: unicodedata; str.encode/decode look codecs up by module); after the walls they could not be found
LAZY_IMPORTS = ("unicodedata", "encodings.utf_16", "encodings.utf_32", "encodings.latin_1", "encodings.ascii",
                "encodings.cp1252", "encodings.idna", "encodings.unicode_escape", "encodings.raw_unicode_escape")


def _warm(config: dict[str, Any], runner: CallRunner) -> None:
    warm_up(frozenset(IMPORTABLE))
    for name in LAZY_IMPORTS:
        __import__(name)
    runner.compile("def run(inputs):\n    é = [x for x in inputs]\n    return {'ok': é}\n")  # the compiler's imports
    for name in config.get("preload", ()):  # test-only: what an attacker with native code could reach
        __import__(name)
    import warnings
    warnings.simplefilter("ignore")  # formatting a warning would read source files that are gone


def _namespaces(config: dict[str, Any], walls: Walls, rfd: int, wfd: int) -> None:
    """New namespaces, then fork: the child (which returns) is PID 1 of its own PID namespace.

    Started as root, the runner first becomes the unprivileged uid and then makes a user namespace
    of its own, when the kernel allows unprivileged user namespaces (a throwaway child tries first:
    there is no way back to root); otherwise it makes the other namespaces as root and gives up
    root after building its empty root (see `_wall_in`).
    """
    use_userns = True
    if os.geteuid() == 0:
        use_userns = _userns_works(int(config["uid"]), int(config["gid"]))
        if use_userns:
            confine.drop_to_user(int(config["uid"]), int(config["gid"]))
    if use_userns:
        confine.prctl(confine.PR_SET_DUMPABLE, 1)  # so this process may write its own uid_map
    entered = walls.attempt("namespaces", confine.enter_namespaces, use_userns)
    if not entered:
        return
    walls.state.pop("namespaces")
    walls.state.update(entered)
    pid = os.fork()
    if pid:  # the parent only waits and mirrors how the namespace's init ended
        for fd in (rfd, wfd):
            os.close(fd)
        os._exit(wait_code(_wait(pid)))


def _userns_works(uid: int, gid: int) -> bool:
    """Whether an unprivileged process may make a user namespace here (tried in a throwaway child)."""
    pid = os.fork()
    if pid == 0:
        try:
            confine.drop_to_user(uid, gid)
            confine.prctl(confine.PR_SET_DUMPABLE, 1)
            confine.enter_namespaces(True)
        except BaseException:  # noqa: BLE001 - any failure means no
            os._exit(1)
        os._exit(0)
    return os.waitpid(pid, 0)[1] == 0


def _wall_in(config: dict[str, Any], walls: Walls, in_container: bool) -> None:
    """The runner's own walls, in order; each one reported."""
    abi = confine.landlock_abi()
    if not in_container:
        if walls.state.get("mountns"):
            walls.attempt("empty_root", confine.empty_root)
        as_root = os.geteuid() == 0
        walls.attempt("capabilities_dropped", confine.drop_bounding_set)
        if as_root:
            walls.attempt("unprivileged_uid", confine.drop_to_user, int(config["uid"]), int(config["gid"]))
        if walls.state.get("capabilities_dropped"):
            walls.attempt("capabilities_dropped", confine.clear_capabilities)
    walls.state["unprivileged_uid"] = os.geteuid() != 0 and os.getuid() != 0
    walls.state["capabilities_dropped"] = confine.capabilities_empty()
    walls.attempt("not_dumpable", confine.not_dumpable)
    walls.attempt("no_new_privs", confine.no_new_privs)
    if abi:
        writable = (config["scratch_root"],) if config.get("scratch_root") else ()
        # the runner's own layer lets its calls' processes read their own /proc entries (each call's layer
        # narrows /proc/self to itself: Landlock layers stack, and every layer must allow an access)
        readable = tuple("/proc" if p == "/proc/self" else p for p in _readable(config))
        if walls.attempt("landlock", confine.landlock, abi, writable, readable):
            walls.state["landlock"] = abi
    else:
        walls.state["landlock"] = False
        walls.errors["landlock"] = "the kernel has no Landlock"
    programs = config.get("seccomp")
    if programs:
        walls.attempt("seccomp", confine.SeccompProgram(bytes.fromhex(programs["runner"])).load)
    else:
        walls.state["seccomp"] = False
        walls.errors["seccomp"] = "the host could not build a seccomp program (libseccomp missing?)"
    walls.state["empty_environment"] = not os.environ


def _readable(config: dict[str, Any]) -> tuple[str, ...]:
    """What Landlock lets a runner read: in a container the image's Python and runner (language_guard:
    none imports from them) and the process's own /proc entry; outside one, nothing (the root is empty)."""
    return tuple(p for p in config.get("readable_paths", ()) if os.path.exists(p))


def _call_walls(config: dict[str, Any], in_container: bool, os_wall: bool) -> Callable[[str | None], None]:
    """What each call's process applies to itself before it reads its request."""
    program = confine.SeccompProgram(bytes.fromhex(config["seccomp"]["call"])) \
        if os_wall and config.get("seccomp") else None
    abi = confine.landlock_abi() if os_wall else 0

    def apply(scratch: str | None) -> None:
        set_call_limits(config, in_container)
        if scratch is not None:
            os.chdir(scratch)
            if abi:
                confine.landlock(abi, writable=(scratch,), readable=_readable(config))
        if program is not None:
            program.load()
    return apply


def main(rfd: int | None = None, wfd: int | None = None) -> None:
    in_container = "--in-container" in sys.argv
    if in_container and os.getpid() == 1:
        _init_shim()
    devnull = os.open(os.devnull, os.O_RDWR)  # kept: after the walls there is no /dev to open
    if rfd is None or wfd is None:  # in a container the host speaks over stdin/stdout
        rfd, wfd = os.dup(0), os.dup(1)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    started = time.perf_counter()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    config = framing.read_message(rfd, _HELLO_CAP)
    runner = CallRunner(config)
    _warm(config, runner)
    os.environ.clear()
    confine.close_fds_except({rfd, wfd, devnull})
    walls = Walls()
    os_wall = bool(config.get("os_wall", True))
    if os_wall:
        if not in_container:
            _namespaces(config, walls, rfd, wfd)
        _wall_in(config, walls, in_container)
    mode = config["mode"]
    if mode == "per_node":
        set_call_limits(config, in_container, cpu_budget=_LIFETIME_CPU_S)
        if os_wall and config.get("seccomp"):
            walls.attempt("seccomp_call", confine.SeccompProgram(bytes.fromhex(config["seccomp"]["call"])).load)
    gc.freeze()  # what is here now is never garbage: collections (and a forked call's first run) skip it
    ready = {"ready": True, "walls": walls.state, "wall_errors": walls.errors, "mode": mode,
             "start_s": time.perf_counter() - started}
    framing.write_all(wfd, framing.encode(ready))
    os.dup2(devnull, 2)  # startup diagnostics end here
    if mode == "per_call":
        Zygote(config, runner, (rfd, wfd), _call_walls(config, in_container, os_wall)).serve()
    else:
        _serve_per_node(runner, rfd, wfd, int(config["max_request_bytes"]))


def _serve_per_node(runner: CallRunner, rfd: int, wfd: int, max_request: int) -> None:
    """Reviewed code whose policy says ``isolation: per_node``: every call in this one process."""
    buffer = private_buffer(max_request)
    while True:
        try:
            envelope = framing.read_message(rfd, ENVELOPE_CAP)
            size = framing.read_frame_into(rfd, buffer)
        except framing.FrameError:
            return
        request_id = envelope["id"]
        try:
            payload = json.loads(buffer[:size])
            key = envelope.get("key")
            if envelope["op"] == "prepare":
                runner.prepare(key, payload["source"])  # type: ignore[arg-type]  # the host's prepare carries a key
                reply: dict[str, Any] = {"id": request_id, "ok": True}
            elif key is not None and key not in runner.cache:
                reply = not_prepared(request_id)
            else:
                runner.start_cpu_clock(runner.cpu_seconds)
                try:
                    reply = runner.run(request_id, envelope["op"], payload, runner.cache.get(key) if key else None)
                finally:
                    runner.stop_cpu_clock()
        except Exception as exc:  # CompileRefusal from prepare, or memory
            kind = "memory" if isinstance(exc, MemoryError) else "compile_refused"
            reply = error_reply(request_id, kind, str(exc) or type(exc).__name__)
        framing.wipe(buffer, size)
        framing.write_all(wfd, framing.encode(reply))
        if runner.tainted:
            return  # something of that call may outlive it here: the host starts a fresh worker


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _init_shim() -> None:
    """As PID 1 in a container, the kernel ignores default-action signals such as SIGPROF or
    SIGXCPU; so PID 1 forks the real runner and only waits, reaping any orphan, and exits with
    the runner's status."""
    child = os.fork()
    if child == 0:
        return
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        if pid == child:
            os._exit(wait_code(status))
