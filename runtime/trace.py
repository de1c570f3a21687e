"""Trace records: what every node did in one run, written as JSONL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field


class SandboxStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: str
    policy: str
    cpu_s: float | None = None
    worker_started: bool = False
    stdout: str = ""
    stdout_truncated: bool = False
    code_sha256: str = Field(description="SHA-256 of the code that ran")
    reviewed: bool = Field(description="False when the code came from an upstream node at run time")
    isolation: str = Field("per_call", description="per_call: the call ran in a process no earlier call ran "
                           "in; per_node: in the node's warm process (reviewed code whose policy allows it)")


def utc_timestamp(seconds: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds and a Z: now, or the given Unix time."""
    when = datetime.now(timezone.utc) if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TraceRecord(BaseModel):
    """One node (or one consensus sample) in one run."""

    model_config = ConfigDict(extra="forbid")

    run: int = Field(description="index of the input this run served")
    run_id: str | None = Field(None, description="unique id of the run (one input through the plan)")
    plan_sha256: str | None = Field(None, description="content hash of the plan that ran")
    ts: str = Field(default_factory=utc_timestamp, description="UTC time the node (or sample) started")
    node: str
    kind: Literal["llm", "code", "consensus"]
    sample: int | None = Field(None, description="consensus sample index, None for the node itself")
    inputs: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    raw_text: str | None = Field(None, description="llm nodes: the student's text before parsing")
    duration_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    seed: int | None = None
    sandbox: SandboxStats | None = None
    agreement: float | None = Field(None, description="consensus: fraction of samples agreeing with the answer")
    samples_used: int | None = None
    error: dict[str, Any] | None = None
    redacted: bool = Field(False, description="inputs, outputs, student text, stdout and error text left out")

    def redact(self) -> "TraceRecord":
        """The record without what a deployment may not store: inputs, outputs, student text, printed output
        and error messages (which can quote them); kept: node, timing, tokens, seeds, sandbox stats, error types."""
        error = None if self.error is None else {k: v for k, v in self.error.items()
                                                  if k in ("type", "node", "field", "limit")}
        sandbox = None if self.sandbox is None else self.sandbox.model_copy(update={"stdout": ""})
        return self.model_copy(update={"inputs": {}, "output": None, "raw_text": None, "sandbox": sandbox,
                                       "error": error, "redacted": True})


class TraceWriter:
    """Appends records to a JSONL file as they happen, so a crash loses nothing already run."""

    def __init__(self, path: str | Path, *, redact: bool = False) -> None:
        self._handle: TextIO = open(path, "w", encoding="utf-8")
        self.redact = redact

    def write(self, records: list[TraceRecord]) -> None:
        for record in records:  # ASCII JSON: a lone surrogate in an input or output cannot break the write
            if self.redact:
                record = record.redact()
            self._handle.write(json.dumps(record.model_dump(mode="json")) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "TraceWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
