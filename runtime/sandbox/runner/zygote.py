"""Fresh state for every call: a zygote that forks one process per call, ahead of time.

The zygote has imported, warmed and walled itself, and compiled the node's
reviewed code; it never runs node code. For each call it hands the request to
a *spare*: a child forked before the call arrived, which has already applied
the per-call limits and the call seccomp filter, warmed itself with a
synthetic call of the runtime's own (so the copy-on-write faults a forked
Python process takes on its first run are not on the call's path), and waits
on a pipe of its own. The zygote relays exactly one reply frame back, kills
the child, and forks the next spare after the reply is on its way. Threads,
patched objects, module state, open files and the call's scratch directory
die with the child; the next call's process never met it.

The zygote treats what passes through it as opaque bytes: requests and
replies are read into two fixed, private buffers and wiped as soon as they
are relayed, so a later spare (a copy of the zygote's memory) holds no
earlier call's inputs or results. It parses only the small envelope the host
writes.
"""

from __future__ import annotations

import json
import marshal
import mmap
import os
import resource
import select
import signal
import time
from typing import Any, Callable

from . import framing
from .execute import CallRunner
from .replies import error_reply, exit_reply, wait_code

ENVELOPE_CAP = 1 << 16
#: the runtime's own warm-up call, run by each spare before it waits (never node code)
_WARM_SOURCE = ("def run(inputs):\n    xs = [inputs[k] for k in sorted(inputs)]\n    t = 0\n"
                "    for x in xs:\n        t += x\n    return {'xs': xs, 'n': len(xs), 't': str(t), 'f': t / 2}\n")
_WARM_INPUTS = json.dumps({"inputs": json.dumps({"a": 1, "b": 2})}).encode()


def private_buffer(size: int) -> mmap.mmap:
    """A buffer a forked child gets a copy-on-write copy of (never MAP_SHARED: a child would see it live)."""
    return mmap.mmap(-1, max(size, mmap.PAGESIZE), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


class _Spare:
    def __init__(self, pid: int, request_w: int, reply_r: int, generation: int, scratch: str | None) -> None:
        self.pid, self.request_w, self.reply_r = pid, request_w, reply_r
        self.generation, self.scratch = generation, scratch


class Zygote:
    def __init__(self, config: dict[str, Any], runner: CallRunner, channel: tuple[int, int],
                 call_walls: Callable[[str | None], None]) -> None:
        self.config = config
        self.runner = runner
        self.host_r, self.host_w = channel
        self.call_walls = call_walls  # applied by each spare before it reads its request
        self.wall_seconds = float(config["wall_seconds"])
        self.inbuf = private_buffer(int(config["max_request_bytes"]))
        self.outbuf = private_buffer(int(config["max_reply_bytes"]))
        self.compiled: dict[str, int] = {}  # code key -> generation in which it was compiled
        self.generation = 0
        self.spare: _Spare | None = None
        self.inflight: _Spare | None = None
        self.dying: list[_Spare] = []
        self.serial = 0
        self.scratch_root = config.get("scratch_root")  # docker: per-call dirs under /tmp
        self.warm_code = runner.compile(_WARM_SOURCE)
        self.timed_out = self.too_big = False
        self.read_bytes = 0
        self.dirty = False  # a call's scratch could not be removed: this runner must not serve another call

    # --- spares --------------------------------------------------------------------

    def _fork_spare(self) -> _Spare:
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        self.serial += 1
        scratch = None
        if self.scratch_root:
            scratch = os.path.join(self.scratch_root, f"call-{self.serial}")
            os.mkdir(scratch, 0o700)
        pid = os.fork()
        if pid == 0:  # the spare: never returns
            try:
                for fd in (request_w, reply_r, self.host_r, self.host_w, *self._call_fds()):
                    os.close(fd)
                self._serve_one(request_r, reply_w, scratch)
            finally:
                os._exit(70)
        os.close(request_r)
        os.close(reply_w)
        return _Spare(pid, request_w, reply_r, self.generation, scratch)

    def _call_fds(self) -> list[int]:
        """The zygote's ends of other calls' pipes (a new spare must not hold them)."""
        return [fd for other in (self.spare, self.inflight, *self.dying) if other is not None
                for fd in (other.request_w, other.reply_r) if fd >= 0]

    def _warm(self) -> None:
        """Take the copy-on-write faults of a first call now, on the runtime's own code, not the node's."""
        self.runner.run("warm", "run", json.loads(_WARM_INPUTS), self.warm_code)
        for code in list(self.runner.cache.values()):
            _touch(code)

    def _serve_one(self, request_r: int, reply_w: int, scratch: str | None) -> None:
        """In the spare: wall in, warm up, wait for one request, run it, reply once, exit."""
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        self.call_walls(scratch)
        self._warm()
        envelope = framing.read_message(request_r, ENVELOPE_CAP)
        try:
            code = None
            if envelope.get("key") is not None:
                code = self.runner.cache.get(envelope["key"]) if envelope.get("inherited") else \
                    marshal.loads(framing.read_frame(request_r, 1 << 26))
            size = framing.read_frame_into(request_r, self.inbuf)
            payload = json.loads(self.inbuf[:size])
            os.close(request_r)
            self.runner.start_cpu_clock(self.runner.cpu_seconds)
            reply = self.runner.run(envelope["id"], envelope["op"], payload, code)
        except MemoryError:
            reply = error_reply(envelope["id"], "memory", "the call ran out of memory", "memory_mb")
        except BaseException as exc:  # a fault of the runner itself: say what, so it can be fixed
            reply = error_reply(envelope["id"], "sandbox_crashed",
                                f"the sandbox runner failed: {type(exc).__name__}: {exc}")
        framing.write_all(reply_w, framing.encode(reply))
        os._exit(0)

    # --- the loop --------------------------------------------------------------------

    def serve(self) -> None:
        self.spare = self._fork_spare()
        while True:
            try:
                envelope = framing.read_message(self.host_r, ENVELOPE_CAP)
                size = framing.read_frame_into(self.host_r, self.inbuf)
            except framing.FrameError:
                break  # the host is gone: so are we
            self._reap_dead(block=False)
            op = envelope.get("op")
            if op == "prepare":
                reply = self._prepare(envelope, size)
                framing.write_all(self.host_w, framing.encode(reply))
            elif op in ("run", "check"):
                self._call(envelope, size)
            framing.wipe(self.inbuf, size)
            if self.dirty:
                break  # the host sees the runner gone and starts a fresh one for the next call
        for child in (self.spare, *self.dying):
            if child is not None:
                self._kill(child)
        self._reap_dead(block=True)

    def _prepare(self, envelope: dict[str, Any], size: int) -> dict[str, Any]:
        """Compile reviewed code here, once: every spare forked afterwards inherits it."""
        request_id, key = envelope["id"], envelope["key"]
        was_compiled = key in self.runner.cache
        try:
            source = json.loads(self.inbuf[:size])["source"]
            self.runner.prepare(key, source)
        except Exception as exc:  # CompileRefusal, or memory
            kind = "memory" if isinstance(exc, MemoryError) else "compile_refused"
            return error_reply(request_id, kind, str(exc) or type(exc).__name__)
        if not was_compiled:
            self.generation += 1
            self.compiled = {k: g for k, g in self.compiled.items() if k in self.runner.cache}  # drop evicted
            self.compiled[key] = self.generation
            if self.spare is not None:  # the spare predates the code: replace it with one that has it
                self._kill(self.spare)
                self.spare = self._fork_spare()
        return {"id": request_id, "ok": True}

    def _call(self, envelope: dict[str, Any], size: int) -> None:
        key = envelope.get("key")
        if key is not None and key not in self.runner.cache:  # evicted (or never prepared): the host prepares
            framing.write_all(self.host_w, framing.encode(not_prepared(envelope["id"])))
            return
        child, self.spare = self.spare, None
        assert child is not None
        self.inflight = child
        inherited = key is not None and self.compiled.get(key, 1 << 60) <= child.generation
        head = {"id": envelope["id"], "op": envelope["op"], "key": key, "inherited": inherited}
        try:
            framing.write_all(child.request_w, framing.encode(head))
            if key is not None and not inherited:
                framing.write_all(child.request_w, framing.frame(marshal.dumps(self.runner.cache[key])))
            framing.write_all(child.request_w, framing.HEADER.pack(size))
            framing.write_all(child.request_w, memoryview(self.inbuf)[:size])
        except OSError:
            pass  # the spare died before its call: its exit status says why
        framing.wipe(self.inbuf, size)
        os.close(child.request_w)
        child.request_w = -1
        reply_size = self._read_reply(child)
        self.inflight = None
        if reply_size is not None:
            self._kill(child)  # it never runs another instruction; reaped off the call's path
            framing.write_all(self.host_w, framing.HEADER.pack(reply_size))
            framing.write_all(self.host_w, memoryview(self.outbuf)[:reply_size])
        else:
            status = self._kill(child, wait=True)
            framing.write_all(self.host_w, framing.encode(self._death_reply(envelope["id"], status)))
        framing.wipe(self.outbuf, self.read_bytes)  # a whole reply, or what a dying call got out of it
        if self.scratch_root is not None:  # scratch directories share one tmpfs: this call's goes before
            self._reap_dead(block=True)   # the next call runs (its reply is on its way already)
        self.spare = self._fork_spare()  # for the next call, once this one's reply is on its way

    def _read_reply(self, child: _Spare) -> int | None:
        """One frame from the child before the wall clock runs out; None if it died or overran."""
        deadline = time.monotonic() + self.wall_seconds
        self.timed_out = self.too_big = False
        self.read_bytes = 0
        header = bytearray()
        size: int | None
        size, got = None, 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return None
            ready, _, _ = select.select([child.reply_r], [], [], left)
            if not ready:
                continue
            if size is None:
                chunk = os.read(child.reply_r, framing.HEADER.size - len(header))
                if not chunk:
                    return None
                header += chunk
                if len(header) == framing.HEADER.size:
                    (size,) = framing.HEADER.unpack(header)
                    if size > len(self.outbuf):
                        self.too_big = True
                        return None
                    if size == 0:
                        return None
                continue
            n = os.readv(child.reply_r, [memoryview(self.outbuf)[got:size]])
            if not n:
                return None
            got += n
            self.read_bytes = got
            if got == size:
                return size

    def _kill(self, child: _Spare, wait: bool = False) -> int:
        """SIGKILL a child and close our ends of its pipes; reap it now (``wait``) or later."""
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for fd in (child.request_w, child.reply_r):
            if fd >= 0:
                os.close(fd)
        child.request_w = child.reply_r = -1
        if not wait:
            self.dying.append(child)
            return 0
        status = os.waitpid(child.pid, 0)[1]
        self._cleanup(child)
        return status

    def _reap_dead(self, block: bool) -> None:
        self.dying.sort(key=lambda c: c.pid)
        for child in list(self.dying):
            try:
                pid, _ = os.waitpid(child.pid, 0 if block else os.WNOHANG)
            except ChildProcessError:  # already reaped
                pid = child.pid
            if pid:
                self.dying.remove(child)
                self._cleanup(child)

    def _cleanup(self, child: _Spare) -> None:
        if child.scratch:  # only once the process is gone: nothing can write there any more
            remove_tree(child.scratch)
            if os.path.lexists(child.scratch):
                self.dirty = True

    def _death_reply(self, request_id: str, status: int) -> dict[str, Any]:
        config = self.config
        if self.timed_out:
            return error_reply(request_id, "timeout", f"the code ran past the wall-clock limit of "
                               f"{config['wall_seconds']:g} s and was killed", "wall_seconds", config["wall_seconds"])
        if self.too_big:
            return error_reply(request_id, "output_too_large", f"the result passed the output limit of "
                               f"{config['output_bytes']} bytes", "output_bytes", config["output_bytes"])
        return exit_reply(request_id, wait_code(status), config)


def remove_tree(root: str) -> None:
    """Remove a call's scratch tree. It walks by changing directory, so it holds no descriptor per level
    and builds no long path: a tree deeper than the open-files limit or PATH_MAX is removed all the same."""
    names: list[str] = []  # the path from root, one name per level
    try:
        os.chdir(root)
        while True:
            subdir = None
            with os.scandir(".") as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        subdir = subdir or entry.name
                    else:
                        os.unlink(entry.name)
            if subdir is not None:
                os.chdir(subdir)
                names.append(subdir)
            elif names:
                os.chdir("..")
                os.rmdir(names.pop())
            else:
                break
        os.chdir("/")
        os.rmdir(root)
    except OSError:
        pass
    finally:
        os.chdir("/")


def not_prepared(request_id: str) -> dict[str, Any]:
    """The call names fixed code this runner does not hold (any more): the host prepares it and retries."""
    return error_reply(request_id, "not_prepared", "the runner does not hold this code; prepare it again")


def _touch(code: Any) -> None:
    """Take a reference to every constant and name of a code object (and its nested code objects)."""
    for const in code.co_consts:
        if type(const) is type(code):
            _touch(const)
    code.co_names  # noqa: B018 - the attribute reads are the point
    code.co_varnames  # noqa: B018


def set_call_limits(config: dict[str, Any], in_container: bool, cpu_budget: float | None = None) -> None:
    """rlimits of a call's process (or, with a lifetime ``cpu_budget``, of the per-node worker)."""
    memory = int(config["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # SIGPROF stops a call first; RLIMIT_CPU is the kernel's backstop
    cpu = int(cpu_budget if cpu_budget is not None else float(config["cpu_seconds"])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not in_container:  # in a container: the policy's ulimits and pids limit
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
