"""The SGDe loop: forward pass, teacher critique and edits, verification, accept only what scores better.

State lives in a run directory: the transcript of teacher calls (appended and
synced per call) and one checkpoint per iteration. `--resume` restarts from
the last checkpoint and serves every teacher call already in the transcript
from it, so a killed compile repeats no call. With the same seed and the same
transcript a compile gives a byte-identical plan: nothing that varies between
runs (seconds, dates) goes into the plan.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable

from sgde.runtime.errors import SgdeError
from sgde.runtime.plan import Plan
from sgde.runtime.plan_io import parse_plan, plan_document
from sgde.runtime.policy import Policy
from sgde.runtime.sandbox import SandboxBackend
from sgde.runtime.student import Student

from .edits import CritiqueReply, EditRejected, apply_candidate, describe
from .errors import CodeRejected, CompileError, TeacherReplyInvalid
from .forward import Outcome, PlanScore, Scorer
from .requests import critique_request, failure_digest
from .task import Example, Task, examples_sha256
from .teachers import Teacher, TeacherUsage, TranscriptTeacher, load_transcript, validate_reply
from .verify import verify_candidate

CHECKPOINT_FORMAT = 2


def compiler_version() -> str:
    try:
        return version("sgde")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class CompileOptions:
    samples: int = 2
    seed: int = 0
    max_teacher_calls: int = 8
    max_usd: float | None = None
    patience: int = 3  # iterations in a row with nothing accepted before giving up


@dataclass
class CompileState:
    iteration: int
    plan: Plan
    score: PlanScore
    outcomes: list[Outcome]
    history: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    teacher_calls: int = 0
    usage: TeacherUsage = field(default_factory=TeacherUsage)
    stalled: int = 0
    stop: str | None = None
    probes: list[Outcome] | None = None  # the stability probe of `plan`; None until it has run

    def to_json(self, fingerprint: str) -> dict[str, Any]:
        doc = plan_document(self.plan)
        doc.pop("content_hash")
        return {"format": CHECKPOINT_FORMAT, "fingerprint": fingerprint, "iteration": self.iteration, "plan": doc,
                "score": self.score.model_dump(), "outcomes": [o.to_json() for o in self.outcomes],
                "history": self.history, "scores": self.scores, "teacher_calls": self.teacher_calls,
                "usage": self.usage.model_dump(), "stalled": self.stalled, "stop": self.stop,
                "probes": None if self.probes is None else [o.to_json() for o in self.probes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CompileState":
        return cls(iteration=data["iteration"], plan=parse_plan(data["plan"]),
                   score=PlanScore.model_validate(data["score"]),
                   outcomes=[Outcome.from_json(o) for o in data["outcomes"]], history=data["history"],
                   scores=data["scores"], teacher_calls=data["teacher_calls"],
                   usage=TeacherUsage.model_validate(data["usage"]), stalled=data["stalled"], stop=data["stop"],
                   probes=None if data["probes"] is None else [Outcome.from_json(o) for o in data["probes"]])


@dataclass
class CompileResult:
    plan: Plan
    state: CompileState
    run_dir: Path


class RunDir:
    """Checkpoints and the transcript of one compile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.transcript = path / "transcript.jsonl"

    def checkpoints(self) -> list[Path]:
        return sorted(self.path.glob("checkpoint-*.json"))

    def save(self, state: CompileState, fingerprint: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / f"checkpoint-{state.iteration:03d}.json"
        tmp = target.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state.to_json(fingerprint), handle)  # key order kept: it shapes the plan YAML
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target)
        return target

    def latest(self) -> dict[str, Any] | None:
        found = self.checkpoints()
        if not found:
            return None
        try:
            return json.loads(found[-1].read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CompileError(f"checkpoint {found[-1]} is unreadable: {exc}", field="run_dir") from None


def fingerprint(task: Task, examples: list[Example], seed_plan: Plan, options: CompileOptions,
                student: Student) -> str:
    """What must not change between a compile and its resume."""
    return json.dumps({"task": task.model_dump(mode="json"), "examples": examples_sha256(examples),
                       "seed_plan": seed_plan.content_hash(), "samples": options.samples, "seed": options.seed,
                       "student": student.model_sha256 or student.model_name}, sort_keys=True)


def run_compile(*, task: Task, seed: Plan, examples: list[Example], teacher: Teacher, student: Student,
                policy: Policy, sandboxes: dict[str, SandboxBackend], run_dir: Path, options: CompileOptions,
                resume: bool = False, say: Callable[[str], None] = lambda text: None) -> CompileResult:
    if options.max_usd is not None and teacher.prices_known is False:
        raise CompileError(f"--max-usd needs a teacher whose cost is known; teacher {teacher.spec!r} reports no "
                           "price (unknown model, or a command/local/replay teacher), so the budget could never "
                           "trip: drop --max-usd or use --max-teacher-calls", field="max_usd")
    rundir = RunDir(run_dir)
    stamp = fingerprint(task, examples, seed, options, student)
    scorer = Scorer(examples, samples=options.samples, seed=options.seed, student=student, policy=policy,
                    sandboxes=sandboxes)
    saved = rundir.latest() if resume else None
    if not resume and (rundir.checkpoints() or rundir.transcript.exists()):
        raise CompileError(f"run dir {run_dir} holds an earlier compile: pass --resume, or another --run-dir",
                           field="run_dir")
    if saved is not None:
        if saved.get("format") != CHECKPOINT_FORMAT or saved.get("fingerprint") != stamp:
            raise CompileError(f"run dir {run_dir} belongs to a different compile (task, examples, seed, samples "
                               "or student differ); it cannot be resumed with these options", field="run_dir")
        state = CompileState.from_json(saved)
        say(f"resuming at iteration {state.iteration} ({state.score}), {state.teacher_calls} teacher calls done")
    recorded = load_transcript(rundir.transcript) if resume and rundir.transcript.exists() else []
    asker = TranscriptTeacher(recorded, live=teacher, record_to=rundir.transcript, spec=teacher.spec)
    if saved is None:
        say(f"iteration 0: scoring the seed plan on {len(examples)} examples x {options.samples} samples")
        score, outcomes = scorer.score(seed)
        state = CompileState(iteration=0, plan=seed, score=score, outcomes=outcomes)
        state.scores.append({"iteration": 0, **score.summary(), "change": "seed plan"})
        state.history.append({"iteration": 0, "event": "seed", "score": score.summary()})
        say(f"seed plan: {score}")
        rundir.save(state, stamp)
    asker.position = state.teacher_calls
    try:
        while state.stop is None:
            _step(state, task=task, examples=examples, teacher=asker, scorer=scorer, policy=policy,
                  options=options, say=say)
            rundir.save(state, stamp)
    finally:
        asker.close()
    plan = _with_provenance(state, task=task, examples=examples, teacher=asker, student=student)
    return CompileResult(plan=plan, state=state, run_dir=run_dir)


def _stop_reason(state: CompileState, options: CompileOptions) -> str | None:
    if state.score.perfect:
        return "converged: every example passes in every sample"
    if state.teacher_calls >= options.max_teacher_calls:
        return f"budget: {options.max_teacher_calls} teacher calls used"
    if options.max_usd is not None and state.usage.usd >= options.max_usd:
        return f"budget: USD {state.usage.usd:.4f} of {options.max_usd:g} spent"
    if state.stalled >= options.patience:
        return f"stalled: nothing accepted in {state.stalled} iterations in a row"
    return None


def _step(state: CompileState, *, task: Task, examples: list[Example], teacher: TranscriptTeacher, scorer: Scorer,
          policy: Policy, options: CompileOptions, say: Callable[[str], None]) -> None:
    state.stop = _stop_reason(state, options)
    if state.stop is not None:
        say(f"stop: {state.stop}")
        return
    if state.probes is None:
        state.probes = scorer.probe(state.plan)
        if state.probes:
            say(f"  stability probe: {sum(o.correct for o in state.probes)}/{len(state.probes)} correct when the "
                "greedy llm nodes are resampled")
    state.iteration += 1
    iteration = state.iteration
    request = critique_request(task=task, plan=state.plan, score=state.score, outcomes=state.outcomes,
                               examples=examples, history=state.history, iteration=iteration, policy=policy,
                               probes=state.probes)
    say(f"iteration {iteration}: asking the teacher (call {state.teacher_calls + 1})")
    reply = teacher.ask(request)
    state.teacher_calls += 1
    _add_usage(state.usage, reply.usage)
    if options.max_usd is not None and reply.usage.usd <= 0 and not teacher.prices_known:
        raise CompileError(f"--max-usd {options.max_usd:g}: the teacher's reply reported no cost, so the budget cannot be "
                           "kept; report usage.usd from the teacher command, or drop --max-usd", field="max_usd")
    try:
        answer = validate_reply(reply.data, CritiqueReply)
    except TeacherReplyInvalid as exc:
        say(f"  the reply was rejected: {exc.message}")
        state.history.append({"iteration": iteration, "event": "reply_rejected", "reason": exc.message})
        state.stalled += 1
        return
    for critique in answer.critiques:
        state.history.append({"iteration": iteration, "event": "critique", "node": critique.node,
                              "critique": critique.critique, "direction": critique.direction})
    best: tuple[int, Plan, PlanScore, list[Outcome], list] | None = None
    for index, candidate in enumerate(answer.candidates, 1):
        ops = [describe(e) for e in candidate.edits]
        entry = {"iteration": iteration, "candidate": index, "rationale": candidate.rationale, "edits": ops}
        try:
            plan = apply_candidate(state.plan, candidate)
            with scorer.executor(plan) as executor:
                verdicts = verify_candidate(plan, candidate, executor)
            score, outcomes = scorer.score(plan)
        except (EditRejected, CodeRejected) as exc:
            state.history.append({**entry, "event": "rejected", "reason": str(exc)})
            say(f"  candidate {index} rejected: {exc}")
            continue
        except SgdeError as exc:  # e.g. a grammar the student cannot load: the candidate's fault, not ours
            state.history.append({**entry, "event": "rejected", "reason": f"{exc.type_name}: {exc}"})
            say(f"  candidate {index} rejected: {exc}")
            continue
        entry["score"] = score.summary()
        entry["verified_code"] = [v.model_dump() for v in verdicts]
        if not score.better_than(state.score):
            state.history.append({**entry, "event": "rejected", "failures": failure_digest(outcomes),
                                  "reason": f"scored {score}, the current plan {state.score}: not better"})
            say(f"  candidate {index} rejected: {score} is not better than {state.score}")
            continue
        if best is not None and not score.better_than(best[2]):
            rival = (f"candidate {best[0]} scored better ({best[2]})" if best[2].better_than(score)
                     else f"candidate {best[0]} scored the same and came first")
            state.history.append({**entry, "event": "rejected", "reason": f"scored {score}; {rival}"})
            continue
        if best is not None:
            state.history.append({**best[4][0], "event": "rejected",
                                  "reason": f"candidate {index} scored better ({score})"})
        best = (index, plan, score, outcomes, [entry])
        say(f"  candidate {index}: {score}")
    if best is None:
        state.stalled += 1
        return
    index, plan, score, outcomes, (entry,) = best
    state.history.append({**entry, "event": "accepted"})
    state.plan, state.score, state.outcomes, state.stalled, state.probes = plan, score, outcomes, 0, None
    state.scores.append({"iteration": iteration, **score.summary(), "change": f"candidate {index}: "
                         + ", ".join(entry["edits"])})
    say(f"  accepted candidate {index}: {score}")


def _add_usage(total: TeacherUsage, usage: TeacherUsage) -> None:
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "attempts"):
        setattr(total, name, getattr(total, name) + getattr(usage, name))
    total.usd = round(total.usd + usage.usd, 6)
    total.seconds += usage.seconds


def _with_provenance(state: CompileState, *, task: Task, examples: list[Example], teacher: Teacher,
                     student: Student) -> Plan:
    doc = plan_document(state.plan)
    doc.pop("content_hash")
    doc["provenance"] = {
        "student_model": student.model_name, "student_sha256": student.model_sha256, "teacher": teacher.spec,
        "examples_sha256": examples_sha256(examples), "score_history": state.scores,
        "compiler_version": compiler_version(),
        "notes": f"compiled from task {task.name!r} on {len(examples)} examples; {state.stop}",
    }
    return parse_plan(doc)
