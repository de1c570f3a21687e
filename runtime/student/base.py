"""The one interface every student implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ..plan import Sampling, Shot


class Generation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    tokens_in: int
    tokens_out: int
    duration_s: float
    finish_reason: str | None = None


class Student(ABC):
    """Generates one chat completion; deterministic for a fixed seed and temperature 0."""

    #: model name or file name, and its pinned SHA-256 when known (goes into traces and provenance)
    model_name: str
    model_sha256: str | None
    #: the model's parameter count when known: the compiler tells the teacher how small a student it writes for
    parameters: int | None = None

    @abstractmethod
    def generate(self, system: str, user: str, sampling: Sampling, *, grammar: str | None = None,
                 shots: tuple[Shot, ...] = ()) -> Generation:
        """One completion; ``grammar`` is GBNF text constraining decoding, ``shots`` prior example turns."""

    def generate_many(self, system: str, user: str, samplings: Sequence[Sampling], *, grammar: str | None = None,
                      shots: tuple[Shot, ...] = ()) -> list[Generation]:
        """Several completions of one prompt (a consensus node's samples): the samplings share the prompt,
        grammar and shots (usually they differ only in their seeds); result i belongs to ``samplings[i]``.
        Deterministic for the same list. This default calls `generate` once per sampling, in order; a
        student that can decode the samples as one batch overrides it."""
        return [self.generate(system, user, sampling, grammar=grammar, shots=shots) for sampling in samplings]

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Free the model; idempotent."""
