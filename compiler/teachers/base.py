"""The one interface every teacher implements, and what crosses it.

A request is self-describing — instructions, the JSON schema the answer must
fit, and the payload — so that any backend (an API, a local model, a script,
a person at a terminal) can answer it, and so that a transcript of requests
and responses is a complete, replayable record of a compile.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sgde.runtime import strict_json

from ..errors import TeacherProtocolError, TeacherReplyInvalid

#: "complete": a free-text chat completion ({"text": ...}), asked by benchmarks/dspy_adapters.py on behalf of DSPy
RequestKind = Literal["derive_family", "critique", "complete"]


class TeacherRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RequestKind
    instructions: str = Field(description="the static part: what the teacher is asked to do (cacheable)")
    response_schema: dict[str, Any] = Field(description="JSON schema the response object must satisfy")
    payload: dict[str, Any] = Field(description="the dynamic part: plan, traces, failures, rejected edits")

    @field_validator("payload", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        # traces carry what code nodes returned, which may hold lone surrogates; a request must encode as UTF-8
        return strict_json.escape_lone_surrogates(value)

    def canonical(self) -> str:
        """Stable text of the request: what replay compares and what a transcript stores."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, indent=1)


class TeacherUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    usd: float = 0.0
    seconds: float = 0.0
    attempts: int = 1


class TeacherReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(description="the response object, not yet validated against the schema")
    usage: TeacherUsage = Field(default_factory=TeacherUsage)

    @field_validator("data", mode="before")
    @classmethod
    def _strict_json(cls, value: Any) -> Any:
        # every backend's reply passes here before anything walks it (the schema check, the transcript);
        # an SgdeError, not a ValueError, so pydantic lets it through as it is
        broken = strict_json.problem(value)
        if broken is not None:
            raise TeacherProtocolError(f"the teacher's reply breaks a JSON rule: {broken}", limit=broken.limit)
        return value


class Teacher(ABC):
    """Answers requests. Backends raise only ``TeacherError`` subclasses."""

    #: the --teacher spec this backend was made from, recorded in provenance and transcripts
    spec: str
    #: None: each reply says its cost (or not: a reply without USD under a --max-usd budget is an error);
    #: False: this teacher's cost is unknown, so a USD budget can never trip; True: known (a local model is free)
    prices_known: bool | None = None

    @abstractmethod
    def ask(self, request: TeacherRequest) -> TeacherReply:
        """One answer to one request (retries are the backend's business)."""

    def close(self) -> None:  # noqa: B027 - an optional hook: most teachers hold nothing
        """Release what the backend holds; idempotent."""

    def __enter__(self) -> "Teacher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def validate_reply(data: dict[str, Any], model: type[BaseModel]) -> BaseModel:
    """The reply as its pydantic model, or TeacherReplyInvalid naming the first bad field and why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"]) or "(root)"
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
                            for e in exc.errors()[:5])
        raise TeacherReplyInvalid(f"the teacher's reply does not fit the schema: {reasons}", field=path) from None
