"""What the compile loop remembers: one typed event per seed score, critique, rejected reply or candidate
verdict, and one score row per accepted step.

The events go to the teacher (the last 12, in every critique request), into
checkpoints and into the report; score rows go into the plan's provenance.
Their JSON is a recorded contract: transcripts replay only if every request
is byte-identical, so `to_json` gives exactly the dicts the loop wrote before
these models existed (same keys, same order; a candidate's unset fields are
left out, as they were absent then). The held-out scores of `--holdout K` are
counts only, and absent from every dump when the compile has no held-out examples.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, TypeAdapter, model_serializer

from .verify import CodeVerdict


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """The event as the teacher and the checkpoints see it (python values: tuples stay tuples)."""
        return self.model_dump(exclude_none=True)


class ScoreSummary(_Record):
    """A plan's score without its seconds (which vary between runs): what the teacher and the plan see."""

    correct: int = Field(description="(example, sample) pairs answered right")
    total: int = Field(description="(example, sample) pairs scored")
    tokens: int = Field(description="student tokens the scored runs cost")


class OmitsUnsetHoldout(BaseModel):
    """Leaves a model's ``holdout`` field out of every dump while it is unset, so a compile without
    ``--holdout`` serialises (plan, checkpoints, requests, outcome) exactly as before the flag existed."""

    @model_serializer(mode="wrap")
    def _without_unset_holdout(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if getattr(self, "holdout", None) is None:
            data.pop("holdout", None)
        return data


HOLDOUT_DESCRIPTION = ("the score on the held-out examples (counts only: the teacher never sees their inputs or "
                       "answers); unset without --holdout")


class ScoreRow(_Record, OmitsUnsetHoldout):
    """One row of the plan's score history: the seed, then each accepted step."""

    iteration: int
    correct: int
    total: int
    tokens: int
    holdout: ScoreSummary | None = Field(None, description=HOLDOUT_DESCRIPTION)
    change: str = Field(description="'seed plan', or 'candidate N: ' and the edits it made")


class SeedEvent(_Record, OmitsUnsetHoldout):
    iteration: int
    event: Literal["seed"]
    score: ScoreSummary
    holdout: ScoreSummary | None = Field(None, description=HOLDOUT_DESCRIPTION)


class ReplyRejectedEvent(_Record):
    """The teacher's reply did not fit the schema; the iteration counts as stalled."""

    iteration: int
    event: Literal["reply_rejected"]
    reason: str


class CritiqueEvent(_Record):
    """One critique of the teacher's reply: the semantic gradient for one node."""

    iteration: int
    event: Literal["critique"]
    node: str
    critique: str
    direction: str


class CandidateEvent(_Record, OmitsUnsetHoldout):
    """The verdict on one candidate. ``score`` and ``verified_code`` are set once it was verified and
    scored, ``failures`` when it scored no better than the current plan, ``reason`` when rejected,
    ``holdout`` once it was also scored on the held-out examples (it beat the current plan on training)."""

    iteration: int
    candidate: int = Field(description="its 1-based position in the teacher's reply")
    rationale: str
    edits: list[str] = Field(description="the edits, described (e.g. 'offload_to_code(answer)')")
    score: ScoreSummary | None = None
    holdout: ScoreSummary | None = Field(None, description=HOLDOUT_DESCRIPTION)
    verified_code: list[CodeVerdict] | None = None
    event: Literal["accepted", "rejected"]
    failures: list[dict[str, Any]] | None = Field(None, description="the first failing (example, sample) "
                                                  "pairs, when it scored no better than the current plan")
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.event == "accepted"


HistoryEvent = Annotated[Union[SeedEvent, ReplyRejectedEvent, CritiqueEvent, CandidateEvent],
                         Field(discriminator="event")]
_EVENTS: TypeAdapter[list[HistoryEvent]] = TypeAdapter(list[HistoryEvent])
_ROWS: TypeAdapter[list[ScoreRow]] = TypeAdapter(list[ScoreRow])


def parse_history(data: Any) -> list[HistoryEvent]:
    """Events from their JSON (a checkpoint's ``history``); pydantic's ValidationError when one does not fit."""
    return _EVENTS.validate_python(data)


def parse_scores(data: Any) -> list[ScoreRow]:
    return _ROWS.validate_python(data)
