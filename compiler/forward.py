"""The forward pass: run a plan with the real student on the m examples, k samples each.

Sample j runs the plan with every llm seed shifted by ``seed + j``; a plan whose
llm nodes all decode greedily gives the same text for every seed, so it runs
once and the outcome stands for all k samples (the variance is zero, and the
student's time is not spent proving it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from sgde.runtime.executor import Executor, llm_nodes
from sgde.runtime.plan import Plan
from sgde.runtime.plan_io import parse_plan, plan_document
from sgde.runtime.policy import Policy
from sgde.runtime.sandbox import SandboxBackend
from sgde.runtime.student import Student
from sgde.runtime.trace import TraceRecord

from .scoring import is_correct
from .task import Example


class PlanScore(BaseModel):
    """Correct (example, sample) pairs, and the student tokens they cost (deterministic, unlike seconds)."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    correct: int
    total: int
    tokens: int
    seconds: float = 0.0

    @property
    def perfect(self) -> bool:
        return self.correct == self.total

    def better_than(self, other: "PlanScore") -> bool:
        return self.correct > other.correct or (self.correct == other.correct and self.tokens < other.tokens)

    def summary(self) -> dict[str, Any]:
        return {"correct": self.correct, "total": self.total, "tokens": self.tokens}

    def __str__(self) -> str:
        return f"{self.correct}/{self.total} correct, {self.tokens} student tokens"


@dataclass
class Outcome:
    """One example under one sample: what came out and every node's trace."""
    example: str
    sample: int
    output: Any
    correct: bool
    error: dict[str, Any] | None
    trace: list[TraceRecord] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(r.tokens_in + r.tokens_out for r in self.trace)

    def to_json(self) -> dict[str, Any]:
        return {"example": self.example, "sample": self.sample, "output": self.output, "correct": self.correct,
                "error": self.error, "trace": [r.model_dump(mode="json") for r in self.trace]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Outcome":
        return cls(example=data["example"], sample=data["sample"], output=data["output"], correct=data["correct"],
                   error=data["error"], trace=[TraceRecord.model_validate(r) for r in data["trace"]])


def samples_vary(plan: Plan) -> bool:
    return any(llm.sampling.temperature > 0 for llm in llm_nodes(plan))


#: temperature at which the stability probe resamples the current plan's greedy llm nodes
PROBE_TEMPERATURE = 0.7


def probe_plan(plan: Plan) -> Plan | None:
    """The plan with every greedy llm node sampled at PROBE_TEMPERATURE, or None when no node is greedy.

    A greedy plan gives one output per input whatever the seed, so its k samples cannot show
    whether a node is stable; resampling it slightly shows which greedy answers hang by a thread.
    """
    doc = plan_document(plan)
    doc.pop("content_hash")
    probed = False
    for node in doc["nodes"]:
        if node["kind"] == "llm" and node.get("sampling", {}).get("temperature", 0.0) == 0:
            node["sampling"] = {**node.get("sampling", {}), "temperature": PROBE_TEMPERATURE}
            probed = True
    return parse_plan(doc) if probed else None


def shift_seeds(plan: Plan, offset: int) -> Plan:
    if offset == 0:
        return plan
    doc = plan_document(plan)
    doc.pop("content_hash")
    for node in doc["nodes"]:
        for llm in [node.get("child", node)] + node.get("body", {}).get("nodes", []):
            if "sampling" in llm:
                llm["sampling"]["seed"] = (llm["sampling"].get("seed", 0) + offset * 1000) % (2**31 - 1)
    return parse_plan(doc)


class Scorer:
    def __init__(self, examples: list[Example], *, samples: int, seed: int, student: Student, policy: Policy,
                 sandboxes: dict[str, SandboxBackend]) -> None:
        self.examples = examples
        self.samples = samples
        self.seed = seed
        self.student = student
        self.policy = policy
        self.sandboxes = sandboxes

    def executor(self, plan: Plan) -> Executor:
        return Executor(plan, student=self.student, policy=self.policy, sandboxes=self.sandboxes)

    def probe(self, plan: Plan) -> list[Outcome]:
        """One run per example of `probe_plan(plan)`, seeds shifted past every scored sample; [] if nothing to probe.

        The probe informs the teacher only: it never counts towards a score.
        """
        probing = probe_plan(plan)
        if probing is None:
            return []
        with self.executor(shift_seeds(probing, self.seed + self.samples)) as executor:
            return [self._run(executor, example, sample=0)[0] for example in self.examples]

    @staticmethod
    def _run(executor: Executor, example: Example, *, sample: int) -> tuple[Outcome, float]:
        result = executor.run(dict(example.input))
        outcome = Outcome(example=example.id, sample=sample, output=result.output,
                          correct=result.ok and is_correct(result.output, example.answer),
                          error=None if result.error is None else result.error.to_dict(), trace=result.trace)
        return outcome, result.duration_s

    def score(self, plan: Plan, on_outcome=None) -> tuple[PlanScore, list[Outcome]]:
        runs = self.samples if samples_vary(plan) else 1
        outcomes: list[Outcome] = []
        seconds = 0.0
        for j in range(runs):
            with self.executor(shift_seeds(plan, self.seed + j)) as executor:  # closes what it made, not ours
                for example in self.examples:
                    outcome, duration = self._run(executor, example, sample=j)
                    seconds += duration
                    outcomes.append(outcome)
                    if on_outcome is not None:
                        on_outcome(outcome)
        scale = self.samples // runs  # a greedy plan's one run stands for every sample
        correct = sum(o.correct for o in outcomes) * scale
        tokens = sum(o.tokens for o in outcomes) * scale
        return PlanScore(correct=correct, total=len(self.examples) * self.samples, tokens=tokens,
                         seconds=round(seconds, 3)), outcomes

