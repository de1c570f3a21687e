"""The one interface every sandbox backend implements."""

from __future__ import annotations

import atexit
import json
import weakref
from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import (CompileRefused, InputError, InvalidOutput, MemoryLimit, NodeRaised, OutputTooLarge, PidsLimit,
                      PolicyViolation, SandboxCrashed, SandboxError)
from ..policy import Policy

_REPLY_ERRORS: dict[str, type[SandboxError]] = {
    "compile_refused": CompileRefused, "policy_violation": PolicyViolation, "invalid_output": InvalidOutput,
    "output_too_large": OutputTooLarge, "memory": MemoryLimit, "node_raised": NodeRaised, "pids": PidsLimit,
}


def raise_for_reply(reply: dict[str, Any], node: str) -> None:
    """Turn a worker's error reply (same protocol in both backends) into the typed error."""
    if reply.get("ok"):
        return
    error = reply.get("error") or {}
    cls = _REPLY_ERRORS.get(str(error.get("type")), SandboxCrashed)
    raise cls(str(error.get("message", "sandbox error")), node=node, limit=error.get("limit"),
              value=error.get("value"))


def worker_request(op: str, source: str, inputs: dict[str, Any], policy: Policy, node: str) -> dict[str, Any]:
    """The request both backends send to the worker; inputs cross as JSON text (a fresh copy inside)."""
    if not isinstance(source, str):
        raise CompileRefused("the code must be a string", node=node)
    try:
        inputs_json = json.dumps(inputs, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"inputs are not JSON: {exc}", node=node, field="inputs") from None
    return {"op": op, "source": source, "inputs": inputs_json, "cpu_seconds": policy.cpu_seconds,
            "memory_mb": policy.memory_mb, "output_bytes": policy.output_bytes,
            "allowed_imports": sorted(policy.allowed_imports), "language_guard": policy.language_guard}


class SandboxResult(BaseModel):
    """What one successful call of ``run(inputs)`` produced."""

    model_config = ConfigDict(extra="forbid")

    output: dict[str, Any] = Field(description="the JSON object run() returned")
    stdout: str = Field("", description="captured print() output, capped at the policy's output_bytes")
    stdout_truncated: bool = Field(False, description="True when print() output passed the cap and was cut")
    duration_s: float = Field(description="wall-clock seconds of the call as seen by the host")
    cpu_s: float | None = Field(None, description="CPU seconds the call used inside the sandbox")
    worker_started: bool = Field(False, description="True when this call had to start a fresh worker/container")


_LIVE_BACKENDS: "weakref.WeakSet[SandboxBackend]" = weakref.WeakSet()


@atexit.register
def close_all_backends() -> None:
    """Interpreter exit: stop every worker and remove every container still open."""
    for backend in list(_LIVE_BACKENDS):
        backend.close()


class SandboxBackend(ABC):
    """Runs untrusted Python that defines ``run(inputs: dict) -> dict`` under a policy.

    Both backends speak the same worker protocol; each implements `_exchange`
    (deliver one request to the node's warm worker or container, enforce the
    limits only the host can see) and inherits `run` and `check`. They raise
    only ``SandboxError`` subclasses (with ``node`` set) and replace a worker
    that hit a limit, so the next call works.
    """

    name: str

    def __new__(cls, *args: Any, **kwargs: Any) -> "SandboxBackend":
        backend = super().__new__(cls)
        _LIVE_BACKENDS.add(backend)  # closed at interpreter exit unless closed before
        return backend

    @abstractmethod
    def _exchange(self, request: dict[str, Any], policy: Policy, node: str) -> tuple[dict[str, Any], float, bool]:
        """Send one request; return (ok reply, seconds, whether a fresh worker started) or raise."""

    def run(self, source: str, inputs: dict[str, Any], policy: Policy, *, node: str = "sandbox") -> SandboxResult:
        """Compile (cached by source hash) and call run(inputs); raise a typed SandboxError on failure."""
        reply, elapsed, started = self._exchange(worker_request("run", source, inputs, policy, node), policy, node)
        return SandboxResult(output=json.loads(reply["output_json"]), stdout=reply.get("stdout", ""),
                             stdout_truncated=bool(reply.get("stdout_truncated")), duration_s=elapsed,
                             cpu_s=reply.get("cpu_s"), worker_started=started)

    def check(self, source: str, policy: Policy, *, node: str = "sandbox") -> None:
        """Compile only: raise CompileRefused if the code would be refused."""
        self._exchange(worker_request("check", source, {}, policy, node), policy, node)

    @abstractmethod
    def close(self) -> None:
        """Stop every worker; idempotent."""

    def __enter__(self) -> "SandboxBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
