"""One conversation between the host and one runner (a process or a container).

A `Session` serves one (node, policy, isolation). It owns every limit that
must hold even if everything inside the sandbox were hostile: the wall clock,
the reply's size, the reply's content (decoded with limits) and the channel's
integrity (exactly one frame, with the request's id, per request). On any
breach the runner is killed and the call gets a typed error; the backend then
starts a fresh runner for the next call.
"""

from __future__ import annotations

import hashlib
import json
import time
from abc import ABC, abstractmethod
from typing import Any, Callable, NoReturn

from ..errors import InputError, OutputTooLarge, ProtocolViolation, SandboxCrashed, SandboxError, TimeoutLimit
from ..policy import Policy
from . import protocol
from .runner.framing import HEADER
from .runner.replies import exit_reply

#: the unprivileged uid/gid a runner started as root becomes (nobody/nogroup)
SANDBOX_UID = SANDBOX_GID = 65534
#: how much longer than the policy's wall clock the host waits for a zygote that enforces it itself
_ZYGOTE_GRACE_S = 1.0
_CPU_MARGIN_S = 0.25
_POLL_S = 0.05


class FrameReader:
    """Accumulates bytes; yields frames; refuses a frame over the cap before its body arrives."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def next_frame(self, cap: int) -> bytes | str | None:
        if len(self.buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack(bytes(self.buffer[:HEADER.size]))
        if size > cap:
            return "too_big"
        end = HEADER.size + size
        if len(self.buffer) < end:
            return None
        body = bytes(self.buffer[HEADER.size:end])
        del self.buffer[:end]
        return body

    def pending(self) -> bool:
        return bool(self.buffer)


class Transport(ABC):
    """How bytes reach one runner and come back. Subclasses move bytes (`send`, `_receive`); framing,
    deadlines and the one-frame rule are the same for all and live here."""

    def __init__(self) -> None:
        self.reader = FrameReader()

    @abstractmethod
    def send(self, data: bytes, deadline: float) -> bool:
        """Write all of ``data`` before ``deadline`` (False: the runner stopped reading); OSError when it is gone."""

    @abstractmethod
    def _receive(self, timeout: float) -> bool | None:
        """Feed what arrives within ``timeout`` to the reader: True if bytes came, False if none, None at EOF."""

    @abstractmethod
    def exit_code(self) -> int | None:
        """After "eof": how the runner ended (128 + signal when a signal ended it), if known."""

    @abstractmethod
    def kill(self) -> None:
        """Stop the runner and everything it started; idempotent."""

    def read_frame(self, deadline: float, cap: int, on_idle: Callable[[], str | None]) -> bytes | str:
        """One frame body, or a tag: "wall" (deadline passed), "eof", "too_big", or what ``on_idle`` returned."""
        while True:
            frame = self.reader.next_frame(cap)
            if frame is not None:
                return frame
            now = time.monotonic()
            if now >= deadline:
                return "wall"
            got = self._receive(min(deadline - now, _POLL_S))
            if got is None:
                return "eof"
            if got is False and (tag := on_idle()):
                return tag

    def buffered(self) -> bool:
        """Whether bytes beyond the last frame already arrived with it (no system call)."""
        return self.reader.pending()

    def pending(self) -> bool:
        """Whether bytes beyond the last frame are waiting (a runner says exactly one frame per request),
        or the runner has ended: either way it must not serve another call."""
        return self.reader.pending() or self._receive(0) is not False

    def call_cpu_seconds(self) -> float | None:
        """CPU time of the call in progress, when the host can see it (None: it cannot)."""
        return None

    def ended(self) -> str:
        """What to tell the caller when the runner is gone without a reply."""
        return "the sandbox runner ended without a reply; the next call starts a fresh one"


def build_hello(policy: Policy, isolation: str, *, guard: str, os_wall: bool, seccomp: tuple[bytes, bytes] | None,
                in_container: bool, preload: tuple[str, ...] = ()) -> dict[str, Any]:
    """The first frame a runner reads: everything it needs before it walls itself in."""
    return {
        "mode": isolation, "guard": guard, "os_wall": os_wall, "allowed_imports": list(policy.allowed_imports),
        "cpu_seconds": policy.cpu_seconds, "wall_seconds": policy.wall_seconds, "memory_mb": policy.memory_mb,
        "output_bytes": policy.output_bytes, "uid": SANDBOX_UID, "gid": SANDBOX_GID,
        "seccomp": {"runner": seccomp[0].hex(), "call": seccomp[1].hex()} if seccomp else None,
        "preload": list(preload), "max_request_bytes": protocol.MAX_REQUEST_BYTES,
        "max_reply_bytes": protocol.reply_cap(policy.output_bytes),
        "scratch_root": "/tmp" if in_container and policy.tmpfs_mb else None,
        # Landlock: in a container, the image's Python and runner and the process's own /proc entry
        "readable_paths": ["/usr/local", "/opt/sgde", "/proc/self"] if in_container else [],
    }


class Session:
    """A started runner serving one (node, policy, isolation)."""

    def __init__(self, transport: Transport, policy: Policy, isolation: str, node: str,
                 ready: dict[str, Any]) -> None:
        self.transport, self.policy, self.isolation, self.node = transport, policy, isolation, node
        self.ready = ready
        self.prepared: set[str] = set()
        self.broken = False
        self.calls = 0

    def close(self) -> None:
        self.broken = True
        self.transport.kill()

    def call(self, op: str, source: str, inputs: dict[str, Any], fixed: bool) -> tuple[dict[str, Any], float]:
        """One request, one reply (prepare first, once, when the source is fixed)."""
        if not isinstance(source, str):
            raise InputError("the code must be a string", node=self.node, field="source")
        try:
            inputs_json = json.dumps(inputs, allow_nan=False)  # ASCII: a lone surrogate is escaped, not an error
        except (TypeError, ValueError, RecursionError) as exc:
            raise InputError(f"inputs are not JSON: {str(exc)[:200]}", node=self.node, field="inputs") from None
        key = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest() if fixed else None
        started = time.monotonic()
        for attempt in range(2):
            if key is not None and key not in self.prepared:
                self._exchange({"op": "prepare", "key": key}, {"source": source}, prepare=True)
                self.prepared.add(key)
            payload = {"inputs": inputs_json} if key is not None else {"source": source, "inputs": inputs_json}
            reply = self._exchange({"op": op, "key": key}, payload)
            if reply.get("not_prepared") and attempt == 0:  # the runner let the compiled code go: again
                self.prepared.discard(key)
                continue
            break
        self.calls += 1
        return reply, time.monotonic() - started

    def _exchange(self, envelope: dict[str, Any], payload: dict[str, Any], *, prepare: bool = False) -> dict[str, Any]:
        policy, node = self.policy, self.node
        request_id = protocol.new_request_id()
        body = json.dumps(payload, separators=(",", ":")).encode("ascii")
        if len(body) > protocol.MAX_REQUEST_BYTES:
            raise InputError(f"the request is {len(body)} bytes, over the sandbox's limit of "
                             f"{protocol.MAX_REQUEST_BYTES}", node=node, field="inputs")
        zygote = self.isolation == "per_call"
        deadline = time.monotonic() + policy.wall_seconds + (_ZYGOTE_GRACE_S if zygote else 0.0)
        try:
            sent = self.transport.send(protocol.encode({**envelope, "id": request_id}) + protocol.frame(body),
                                       deadline)
        except OSError:
            self.close()
            raise SandboxCrashed(self.transport.ended(), node=node) from None
        if not sent:  # the runner stopped reading: it cannot be waited on any longer than the wall clock
            self._fail("wall", request_id)
        frame = self.transport.read_frame(deadline, protocol.reply_cap(policy.output_bytes), self._cpu_watch())
        if isinstance(frame, str):
            self._fail(frame, request_id)
        # bytes that came with the reply; later ones are caught before the next call (SandboxBackend._session)
        if self.transport.buffered():
            self._breach("the sandbox sent more than one reply to one request")
        try:
            reply = protocol.check_reply(protocol.decode_json(frame), request_id, prepare=prepare,
                                         cpu_ceiling=policy.wall_seconds + 10)
        except ProtocolViolation as exc:
            self._breach(exc.message)
        except SandboxError as exc:  # undecodable content: the runner is not to be trusted further
            self.close()
            exc.node = node
            raise
        except Exception as exc:  # anything else a reply could provoke is the runner's fault, never ours
            self._breach(f"the sandbox sent a reply that could not be read ({type(exc).__name__})")
        if protocol.is_not_prepared(reply):
            return {"not_prepared": True}
        protocol.raise_for_reply(reply, node)  # a well-formed error reply: the typed error it names
        return reply

    def _cpu_watch(self) -> Callable[[], str | None]:
        """Polled while the host waits (every 50 ms). A per-call process starts from zero CPU; a per-node
        worker's baseline is read at the first poll, less the 50 ms the call may have used by then."""
        limit = self.policy.cpu_seconds + _CPU_MARGIN_S
        baseline: list[float] = [] if self.isolation == "per_node" else [0.0]

        def check() -> str | None:
            used = self.transport.call_cpu_seconds()
            if used is None:
                return None
            if not baseline:
                baseline.append(used - _POLL_S)
                return None
            return "cpu" if used - baseline[0] > limit else None
        return check

    def _breach(self, why: str) -> NoReturn:
        self.close()
        raise ProtocolViolation(f"{why}; it was killed and the next call starts a fresh one", node=self.node)

    def _fail(self, tag: str, request_id: str) -> NoReturn:
        """The runner did not answer: kill it and say why, as a typed error."""
        policy, node = self.policy, self.node
        code = self.transport.exit_code() if tag == "eof" else None
        self.close()
        if tag == "wall":
            raise TimeoutLimit(f"the code ran past the wall-clock limit of {policy.wall_seconds:g} s and was killed",
                               node=node, limit="wall_seconds", value=policy.wall_seconds)
        if tag == "cpu":
            raise TimeoutLimit(f"the code used more than {policy.cpu_seconds:g} CPU seconds and was killed",
                               node=node, limit="cpu_seconds", value=policy.cpu_seconds)
        if tag == "too_big":
            raise OutputTooLarge(f"the sandbox's reply passed the output limit of {policy.output_bytes} bytes",
                                 node=node, limit="output_bytes", value=policy.output_bytes)
        if code is not None:
            protocol.raise_for_reply(exit_reply(request_id, code, policy.model_dump()), node)
        raise SandboxCrashed(self.transport.ended(), node=node)
