"""The one interface every sandbox backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..policy import Policy


class SandboxResult(BaseModel):
    """What one successful call of ``run(inputs)`` produced."""

    model_config = ConfigDict(extra="forbid")

    output: dict[str, Any] = Field(description="the JSON object run() returned")
    stdout: str = Field("", description="captured print() output, capped at the policy's output_bytes")
    stdout_truncated: bool = Field(False, description="True when print() output passed the cap and was cut")
    duration_s: float = Field(description="wall-clock seconds of the call as seen by the host")
    cpu_s: float | None = Field(None, description="CPU seconds the call used inside the sandbox")
    worker_started: bool = Field(False, description="True when this call had to start a fresh worker/container")


class SandboxBackend(ABC):
    """Runs untrusted Python that defines ``run(inputs: dict) -> dict`` under a policy.

    Implementations keep warm workers keyed by node, raise only ``SandboxError``
    subclasses (with ``node`` set), and replace a worker that hit a limit so the
    next call works.
    """

    name: str

    @abstractmethod
    def run(self, source: str, inputs: dict[str, Any], policy: Policy, *, node: str = "sandbox") -> SandboxResult:
        """Compile (cached by source hash) and call run(inputs); raise a typed SandboxError on failure."""

    @abstractmethod
    def check(self, source: str, policy: Policy, *, node: str = "sandbox") -> None:
        """Compile only: raise CompileRefused if the code would be refused."""

    @abstractmethod
    def close(self) -> None:
        """Stop every worker; idempotent."""

    def __enter__(self) -> "SandboxBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
