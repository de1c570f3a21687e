"""The one interface every sandbox backend implements, and what they share."""

from __future__ import annotations

import atexit
import logging
import threading
from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import SandboxError, WallMissing
from ..policy import Policy
from .session import Session

log = logging.getLogger(__name__)

#: the test-only switches: each removes one wall so that a test can prove the other holds alone
TESTING_SWITCHES = frozenset({"language_guard", "os_wall"})


class SandboxResult(BaseModel):
    """What one successful call of ``run(inputs)`` produced."""

    model_config = ConfigDict(extra="forbid")

    output: dict[str, Any] = Field(description="the JSON object run() returned")
    stdout: str = Field("", description="captured print() output, capped at the policy's output_bytes")
    stdout_truncated: bool = Field(False, description="True when print() output passed the cap and was cut")
    duration_s: float = Field(description="wall-clock seconds of the call as seen by the host")
    cpu_s: float | None = Field(None, description="CPU seconds the call used inside the sandbox")
    worker_started: bool = Field(False, description="True when this call had to start a fresh runner/container")
    isolation: str = Field("per_call", description="per_call: a fresh process for this call; per_node: a warm one")


#: every backend not yet closed (held strongly: a backend collected unclosed would leave its containers behind)
_LIVE_BACKENDS: "set[SandboxBackend]" = set()


@atexit.register
def close_all_backends() -> None:
    """Interpreter exit: stop every runner and remove every container still open."""
    for backend in list(_LIVE_BACKENDS):
        backend.close()


def isolation_for(policy: Policy, reviewed: bool) -> str:
    """Warm reuse is for reviewed code whose policy asks for it; everything else gets a fresh process per call."""
    return "per_node" if reviewed and policy.isolation == "per_node" else "per_call"


class SandboxBackend(ABC):
    """Runs untrusted Python that defines ``run(inputs: dict) -> dict`` under a policy.

    A backend keeps one runner per (node, policy, isolation), started on first
    use; each implements `_start` (start a runner and return its `Session`)
    and `_walls_in_force` (what the host provides on top of what the runner
    reports). They raise only ``SandboxError`` subclasses (with ``node`` set)
    and replace a runner that failed, so the next call works.

    ``testing_disable`` removes a wall ("language_guard" or "os_wall") so a test
    can prove the other holds alone. Nothing outside the tests passes it: not a
    plan, a policy, the executor or the CLI.
    """

    name: str

    def __init__(self, *, testing_disable: frozenset[str] | set[str] = frozenset()) -> None:
        unknown = set(testing_disable) - TESTING_SWITCHES
        if unknown:
            raise ValueError(f"unknown testing switches {sorted(unknown)}")
        self.testing_disable = frozenset(testing_disable)
        self._sessions: dict[tuple[str, Policy, str], Session] = {}
        self._lock = threading.Lock()
        self._call_locks: dict[tuple[str, Policy, str], threading.Lock] = {}
        _LIVE_BACKENDS.add(self)  # closed at interpreter exit unless closed before

    @abstractmethod
    def _start(self, node: str, policy: Policy, isolation: str) -> Session:
        """Start a runner for (node, policy, isolation) and return its session (ready, walls reported)."""

    def _session(self, node: str, policy: Policy, isolation: str) -> tuple[Session, bool, threading.Lock]:
        key = (node, policy, isolation)
        with self._lock:
            lock = self._call_locks.setdefault(key, threading.Lock())
            session = self._sessions.get(key)
            if session is not None and not session.broken:
                if not session.transport.pending():
                    return session, False, lock
                # it wrote to its channel between calls: compromised. This call gets a fresh runner
                log.warning("sandbox runner of node %s wrote between calls; replaced", node)
                session.close()
            _LIVE_BACKENDS.add(self)  # again, if it was closed and is used anew
            session = self._sessions[key] = self._start(node, policy, isolation)
            self._require_walls(session, policy, node)
            return session, True, lock

    def _require_walls(self, session: Session, policy: Policy, node: str) -> None:
        walls = self.walls_in_force(session)
        missing = sorted(w for w in policy.require if not walls.get(w))
        if missing:
            session.close()
            errors = session.ready.get("wall_errors") or {}
            detail = "; ".join(f"{w}: {errors[w]}" for w in missing if w in errors)
            raise WallMissing(f"policy {policy.name!r} requires {missing}, which this host does not give the "
                              f"{self.name} backend{' (' + detail + ')' if detail else ''}; `sgde sandbox doctor` "
                              "shows what it has", node=node, field="require", value=missing)

    def walls_in_force(self, session: Session) -> dict[str, Any]:
        """Every wall around this session's runner: what the runner reports, plus what the host adds."""
        walls = dict(session.ready.get("walls") or {})
        walls["language_guard"] = "language_guard" not in self.testing_disable and \
            session.policy.language_guard == "restricted"
        return walls

    def probe_walls(self, policy: Policy) -> dict[str, Any]:
        """Start a runner under ``policy`` and report every wall around it, and why any is missing."""
        session = self._start("doctor", policy, "per_call")
        try:
            walls = self.walls_in_force(session)
            return {"walls": walls, "errors": dict(session.ready.get("wall_errors") or {}),
                    "missing": sorted(w for w in policy.require if not walls.get(w)),
                    "start_s": session.ready.get("start_s")}
        finally:
            session.close()

    def run(self, source: str, inputs: dict[str, Any], policy: Policy, *, node: str = "sandbox",
            reviewed: bool = False, fixed: bool | None = None) -> SandboxResult:
        """Run ``run(inputs)``; raise a typed SandboxError on failure.

        ``reviewed``: the source is a plan's fixed, hashed code, which a person
        approves; it may be served warm when the policy says ``isolation: per_node``.
        ``fixed`` (default: ``reviewed``): the same source serves many calls (a code
        node, or teacher code under verification), so the runner compiles it once,
        before any call's data is in it. Anything else (a PAL program, written from
        one input) is compiled by the call's own process and dies with it.
        """
        isolation = isolation_for(policy, reviewed)
        fixed = reviewed if fixed is None else fixed
        reply, elapsed, started = self._call("run", source, inputs, policy, node, fixed, isolation)
        # protocol.check_reply has checked every field's type already
        return SandboxResult.model_construct(output=reply["output"], stdout=reply.get("stdout", ""),
                                             stdout_truncated=bool(reply.get("stdout_truncated")),
                                             duration_s=elapsed, cpu_s=reply.get("cpu_s"), worker_started=started,
                                             isolation=isolation)

    def check(self, source: str, policy: Policy, *, node: str = "sandbox") -> None:
        """Compile only: raise CompileRefused if the code would be refused."""
        self._call("check", source, {}, policy, node, False, "per_call")

    def _call(self, op: str, source: str, inputs: dict[str, Any], policy: Policy, node: str, fixed: bool,
              isolation: str) -> tuple[dict[str, Any], float, bool]:
        session, started, lock = self._session(node, policy, isolation)
        with lock:
            try:
                reply, elapsed = session.call(op, source, inputs, fixed)
            except SandboxError as exc:
                exc.node = exc.node or node
                raise
        return reply, elapsed, started

    def close(self) -> None:
        """Stop every runner; idempotent."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()
        _LIVE_BACKENDS.discard(self)

    def __enter__(self) -> "SandboxBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
