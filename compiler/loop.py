"""The SGDe loop: forward pass, teacher critique and edits, verification, accept only what scores better.

State lives in a run directory: the transcript of teacher calls (appended and
synced per call) and one checkpoint per iteration. `--resume` restarts from
the last checkpoint and serves every teacher call already in the transcript
from it, so a killed compile repeats no call. With the same seed and the same
transcript a compile gives a byte-identical plan: nothing that varies between
runs (seconds, dates) goes into the plan.

With held-out examples (`--holdout K`) every candidate that would win on the
training examples is also scored on K examples the teacher never sees, and is
rejected if it gets fewer of them right than the current plan: code fitted to
the training examples' surface raises the one score and lowers the other.
Only counts of the held-out score leave the loop (history, score rows, report).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

from pydantic import ConfigDict, Field, ValidationError

from sgde.runtime.errors import SgdeError
from sgde.runtime.plan import Plan
from sgde.runtime.plan_io import parse_plan, plan_document
from sgde.runtime.policy import Policy
from sgde.runtime.sandbox import SandboxBackend
from sgde.runtime.student import Student

from .edits import CritiqueReply, EditRejected, apply_candidate, describe
from .errors import CodeRejected, CompileError, TeacherReplyInvalid
from .forward import Outcome, PlanScore, Scorer
from .history import (
    CandidateEvent,
    CritiqueEvent,
    HistoryEvent,
    OmitsUnsetHoldout,
    ReplyRejectedEvent,
    ScoreRow,
    ScoreSummary,
    SeedEvent,
    parse_history,
    parse_scores,
)
from .requests import budget_card, critique_request, failure_digest, recorded_protocol, student_card
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
    history: list[HistoryEvent] = field(default_factory=list)
    scores: list[ScoreRow] = field(default_factory=list)
    teacher_calls: int = 0
    usage: TeacherUsage = field(default_factory=TeacherUsage)
    stalled: int = 0
    stop: str | None = None
    probes: list[Outcome] | None = None  # the stability probe of `plan`; None until it has run
    holdout: PlanScore | None = None  # `plan`'s score on the held-out examples; None without --holdout

    def to_json(self, fingerprint: str) -> dict[str, Any]:
        doc = plan_document(self.plan)
        doc.pop("content_hash")
        data = {"format": CHECKPOINT_FORMAT, "fingerprint": fingerprint, "iteration": self.iteration, "plan": doc,
                "score": self.score.model_dump(), "outcomes": [o.to_json() for o in self.outcomes],
                "history": [e.to_json() for e in self.history], "scores": [r.to_json() for r in self.scores],
                "teacher_calls": self.teacher_calls,
                "usage": self.usage.model_dump(), "stalled": self.stalled, "stop": self.stop,
                "probes": None if self.probes is None else [o.to_json() for o in self.probes]}
        if self.holdout is not None:  # only the score: the held-out outcomes are never kept
            data["holdout"] = self.holdout.model_dump()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CompileState":
        return cls(iteration=data["iteration"], plan=parse_plan(data["plan"]),
                   score=PlanScore.model_validate(data["score"]),
                   outcomes=[Outcome.from_json(o) for o in data["outcomes"]],
                   history=parse_history(data["history"]), scores=parse_scores(data["scores"]),
                   teacher_calls=data["teacher_calls"],
                   usage=TeacherUsage.model_validate(data["usage"]), stalled=data["stalled"], stop=data["stop"],
                   probes=None if data["probes"] is None else [Outcome.from_json(o) for o in data["probes"]],
                   holdout=None if data.get("holdout") is None else PlanScore.model_validate(data["holdout"]))


@dataclass(frozen=True)
class CandidateResult:
    """The best candidate of an iteration so far: its plan, score and traces, and the verdict it gets
    if nothing beats it (a transient value of one iteration, never serialised)."""
    index: int
    plan: Plan
    score: PlanScore
    outcomes: list[Outcome]
    verdict: CandidateEvent
    holdout: PlanScore | None = None


@dataclass
class CompileResult:
    plan: Plan
    state: CompileState
    run_dir: Path
    holdout: int = 0  # how many examples were held out from the teacher

    def outcome(self, *, out: Path | None = None, report: Path | None = None) -> "CompileOutcome":
        return CompileOutcome.of(self.state, run_dir=self.run_dir, plan=self.plan, out=out, report=report)


class CandidateVerdict(OmitsUnsetHoldout):
    model_config = ConfigDict(extra="forbid")

    iteration: int
    candidate: int
    verdict: Literal["accepted", "rejected"]
    edits: list[str]
    score: ScoreSummary | None = Field(None, description="None when it was rejected before it was scored")
    holdout: ScoreSummary | None = Field(None, description="its held-out score (counts); unset without --holdout "
                                         "or when it did not beat the current plan on training")
    reason: str | None = Field(None, description="why it was rejected")


class CompileOutcome(OmitsUnsetHoldout):
    """How a compile ended, for whoever taught it: the file-drop relay's teacher reads it from DIR/outcome.json
    (a teacher that answered request 1 learns whether the compile converged, what won and why it stopped)."""
    model_config = ConfigDict(extra="forbid")

    status: Literal["finished", "failed"] = Field(description="failed: the compile stopped on an error")
    stop: str | None = Field(None, description="the stop reason (converged, budget, stalled); None when failed")
    converged: bool = False
    error: dict[str, Any] | None = Field(None, description="type and message of the error, when failed")
    iterations: int = 0
    teacher_calls: int = 0
    score: ScoreSummary | None = Field(None, description="the final plan's score on the training examples")
    holdout: ScoreSummary | None = Field(None, description="the final plan's score on the held-out examples "
                                         "(counts only); unset without --holdout")
    accepted: list[CandidateVerdict] = Field(default_factory=list, description="the candidates that won, in order")
    candidates: list[CandidateVerdict] = Field(default_factory=list, description="every candidate's verdict")
    score_history: list[ScoreRow] = Field(default_factory=list)
    plan: str | None = Field(None, description="where the compiled plan was written")
    plan_hash: str | None = None
    report: str | None = Field(None, description="where the compile report was written")
    run_dir: str = Field(description="checkpoints and the transcript of the compile")

    @classmethod
    def of(cls, state: CompileState | None, *, run_dir: Path, plan: Plan | None = None, out: Path | None = None,
           report: Path | None = None, error: SgdeError | None = None) -> "CompileOutcome":
        """The outcome of a finished compile, or of a failed one (``error``; ``state``: its last checkpoint)."""
        # absolute paths: the relay's teacher reads them from another process, maybe another folder
        fields: dict[str, Any] = {"status": "failed" if error is not None else "finished",
                                  "run_dir": str(run_dir.absolute()),
                                  "plan": str(out.absolute()) if out is not None else None,
                                  "report": str(report.absolute()) if report is not None else None,
                                  "plan_hash": plan.content_hash() if plan is not None else None}
        if error is not None:
            fields["error"] = {"type": error.type_name, "message": error.message}
        if state is not None:
            verdicts = [CandidateVerdict(iteration=e.iteration, candidate=e.candidate, verdict=e.event, edits=e.edits,
                                         score=e.score, holdout=e.holdout, reason=e.reason)
                        for e in state.history if isinstance(e, CandidateEvent)]
            fields.update(stop=None if error is not None else state.stop,
                          converged=error is None and state.score.perfect, iterations=state.iteration,
                          teacher_calls=state.teacher_calls, score=_summary(state.score),
                          holdout=_summary_or_none(state.holdout),
                          accepted=[v for v in verdicts if v.verdict == "accepted"], candidates=verdicts,
                          score_history=state.scores)
        return cls(**fields)


def last_checkpoint(run_dir: Path) -> CompileState | None:
    """The state a compile had reached in ``run_dir`` (None when there is no readable checkpoint)."""
    try:
        saved = RunDir(run_dir).latest()
        return CompileState.from_json(saved) if saved and saved.get("format") == CHECKPOINT_FORMAT else None
    except (CompileError, ValidationError, KeyError, TypeError, ValueError):
        return None


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
                student: Student, holdout: Sequence[Example] = ()) -> str:
    """What must not change between a compile and its resume."""
    stamp = {"task": task.model_dump(mode="json"), "examples": examples_sha256(examples),
             "seed_plan": seed_plan.content_hash(), "samples": options.samples, "seed": options.seed,
             "student": student.model_sha256 or student.model_name}
    if holdout:  # absent without --holdout: run dirs of earlier compiles still resume
        stamp["holdout"] = examples_sha256(list(holdout))
    return json.dumps(stamp, sort_keys=True)


def run_compile(*, task: Task, seed: Plan, examples: list[Example], teacher: Teacher, student: Student,
                policy: Policy, sandboxes: dict[str, SandboxBackend], run_dir: Path, options: CompileOptions,
                resume: bool = False, say: Callable[[str], None] = lambda text: None,
                holdout: Sequence[Example] = ()) -> CompileResult:
    """Compile ``seed`` on ``examples``; ``holdout``: examples the teacher never sees, which no winning
    candidate may score worse on than the current plan (none: the check is off)."""
    if options.max_usd is not None and teacher.prices_known is False:
        raise CompileError(f"--max-usd needs a teacher whose cost is known; teacher {teacher.spec!r} reports no "
                           "price (unknown model, or a command/local/replay teacher), so the budget could never "
                           "trip: drop --max-usd or use --max-teacher-calls", field="max_usd")
    rundir = RunDir(run_dir)
    stamp = fingerprint(task, examples, seed, options, student, holdout)
    scorer = Scorer(examples, samples=options.samples, seed=options.seed, student=student, policy=policy,
                    sandboxes=sandboxes)
    # the same samples and seeds as training: the two scores differ only in the examples
    held_out = Scorer(list(holdout), samples=options.samples, seed=options.seed, student=student, policy=policy,
                      sandboxes=sandboxes) if holdout else None
    saved = rundir.latest() if resume else None
    if not resume and (rundir.checkpoints() or rundir.transcript.exists()):
        raise CompileError(f"run dir {run_dir} holds an earlier compile: pass --resume, or another --run-dir",
                           field="run_dir")
    if saved is not None:
        if saved.get("format") != CHECKPOINT_FORMAT or saved.get("fingerprint") != stamp:
            raise CompileError(f"run dir {run_dir} belongs to a different compile (task, examples, held-out "
                               "examples, seed, samples or student differ); it cannot be resumed with these options",
                               field="run_dir")
        try:
            state = CompileState.from_json(saved)
        except (ValidationError, KeyError, TypeError) as exc:
            raise CompileError(f"checkpoint in {run_dir} does not fit checkpoint format {CHECKPOINT_FORMAT} "
                               f"(written by another version of sgde?): {exc}", field="run_dir") from None
        if (state.holdout is None) != (held_out is None):
            raise CompileError(f"checkpoint in {run_dir} {'lacks' if held_out else 'has'} a held-out score: it "
                               "cannot be resumed with these --holdout examples", field="run_dir")
        say(f"resuming at iteration {state.iteration} ({state.score}), {state.teacher_calls} teacher calls done")
    recorded = load_transcript(rundir.transcript) if resume and rundir.transcript.exists() else []
    build = student_build(student)
    if isinstance(teacher, TranscriptTeacher):  # a replay: a mismatch names what differs from this build
        teacher.student_build = build
    asker = TranscriptTeacher(recorded, live=teacher, record_to=rundir.transcript, spec=teacher.spec,
                              student_build=build)
    if saved is None:
        say(f"iteration 0: scoring the seed plan on {len(examples)} examples x {options.samples} samples")
        score, outcomes = scorer.score(seed)
        state = CompileState(iteration=0, plan=seed, score=score, outcomes=outcomes)
        say(f"seed plan: {score}")
        if held_out is not None:
            state.holdout = held_out.score(seed)[0]
            say(f"seed plan on the {len(holdout)} held-out examples: {state.holdout}")
        state.scores.append(ScoreRow(iteration=0, **score.summary(), holdout=_summary_or_none(state.holdout),
                                     change="seed plan"))
        state.history.append(SeedEvent(iteration=0, event="seed", score=_summary(score),
                                       holdout=_summary_or_none(state.holdout)))
        rundir.save(state, stamp)
    asker.position = state.teacher_calls
    try:
        while state.stop is None:
            _step(state, task=task, examples=examples, teacher=asker, scorer=scorer, held_out=held_out,
                  policy=policy, options=options, say=say)
            rundir.save(state, stamp)
    finally:
        asker.close()
    # the build the teacher's last answer was given for: a replay keeps the recorded one (none for a transcript
    # that predates builds), so it gives the recorded plan byte for byte wherever the student reproduces it
    compiled_with = asker.build_of_call(state.teacher_calls - 1) if state.teacher_calls else build
    plan = _with_provenance(state, task=task, examples=examples, teacher=asker, student=student,
                            build=compiled_with, holdout=len(holdout))
    return CompileResult(plan=plan, state=state, run_dir=run_dir, holdout=len(holdout))


def student_build(student: Student) -> dict[str, Any] | None:
    """What the student's greedy output depends on besides the model (``LlamaStudent.build_info``: thread
    count, llama-cpp-python version, llama.cpp system info); None for a student that reports none."""
    info = getattr(student, "build_info", None)
    return dict(info()) if callable(info) else None


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


def _protocol(teacher: TranscriptTeacher) -> int:
    """The teacher protocol to speak: a replay (or a resumed compile) speaks the one its calls were recorded with."""
    calls = list(teacher.recorded)
    if isinstance(teacher.live, TranscriptTeacher):
        calls += teacher.live.recorded
    return recorded_protocol(calls)


def _step(state: CompileState, *, task: Task, examples: list[Example], teacher: TranscriptTeacher, scorer: Scorer,
          held_out: Scorer | None, policy: Policy, options: CompileOptions, say: Callable[[str], None]) -> None:
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
                               probes=state.probes, student=student_card(scorer.student),
                               budget=budget_card(call=state.teacher_calls + 1, max_calls=options.max_teacher_calls,
                                                  stalled=state.stalled, patience=options.patience),
                               protocol=_protocol(teacher))
    say(f"iteration {iteration}: asking the teacher (call {state.teacher_calls + 1})")
    reply = teacher.ask(request)
    state.teacher_calls += 1
    _add_usage(state.usage, reply.usage)
    if options.max_usd is not None and reply.usage.usd <= 0 and not teacher.prices_known:
        raise CompileError(f"--max-usd {options.max_usd:g}: the teacher's reply reported no cost, so the budget "
                           "cannot be kept; report usage.usd from the teacher command, or drop --max-usd",
                           field="max_usd")
    try:
        answer = validate_reply(reply.data, CritiqueReply)
    except TeacherReplyInvalid as exc:
        say(f"  the reply was rejected: {exc.message}")
        state.history.append(ReplyRejectedEvent(iteration=iteration, event="reply_rejected", reason=exc.message))
        state.stalled += 1
        return
    for critique in answer.critiques:
        state.history.append(CritiqueEvent(iteration=iteration, event="critique", node=critique.node,
                                           critique=critique.critique, direction=critique.direction))
    best: CandidateResult | None = None
    for index, candidate in enumerate(answer.candidates, 1):
        entry: dict[str, Any] = {"iteration": iteration, "candidate": index, "rationale": candidate.rationale,
                                 "edits": [describe(e) for e in candidate.edits]}
        try:
            plan = apply_candidate(state.plan, candidate)
            with scorer.executor(plan) as executor:
                verdicts = verify_candidate(plan, candidate, executor)
            score, outcomes = scorer.score(plan)
        except (EditRejected, CodeRejected) as exc:
            state.history.append(CandidateEvent(**entry, event="rejected", reason=str(exc)))
            say(f"  candidate {index} rejected: {exc}")
            continue
        except SgdeError as exc:  # e.g. a grammar the student cannot load: the candidate's fault, not ours
            state.history.append(CandidateEvent(**entry, event="rejected", reason=f"{exc.type_name}: {exc}"))
            say(f"  candidate {index} rejected: {exc}")
            continue
        entry.update(score=_summary(score), verified_code=verdicts)
        if not score.better_than(state.score):
            state.history.append(CandidateEvent(**entry, event="rejected", failures=failure_digest(outcomes),
                                                reason=f"scored {score}, the current plan {state.score}: not better"))
            say(f"  candidate {index} rejected: {score} is not better than {state.score}")
            continue
        if best is not None and not score.better_than(best.score):
            rival = (f"candidate {best.index} scored better ({best.score})" if best.score.better_than(score)
                     else f"candidate {best.index} scored the same and came first")
            state.history.append(CandidateEvent(**entry, event="rejected", reason=f"scored {score}; {rival}"))
            continue
        held: PlanScore | None = None
        if held_out is not None and state.holdout is not None:
            held = held_out.score(plan)[0]  # the outcomes are dropped: nothing but counts leaves this line
            entry.update(holdout=_summary(held))
            if held.correct < state.holdout.correct:
                reason = _held_out_fell(state.score, score, state.holdout, held)
                state.history.append(CandidateEvent(**entry, event="rejected", reason=reason))
                say(f"  candidate {index} rejected: {reason}")
                continue
        if best is not None:
            state.history.append(best.verdict.model_copy(update={
                "event": "rejected", "reason": f"candidate {index} scored better ({score})"}))
        best = CandidateResult(index=index, plan=plan, score=score, outcomes=outcomes,
                               verdict=CandidateEvent(**entry, event="accepted"), holdout=held)
        say(f"  candidate {index}: {score}" + ("" if held is None else f"; held-out {held}"))
    if best is None:
        state.stalled += 1
        return
    state.history.append(best.verdict)
    state.plan, state.score, state.outcomes, state.stalled, state.probes = \
        best.plan, best.score, best.outcomes, 0, None
    if best.holdout is not None:
        state.holdout = best.holdout
    state.scores.append(ScoreRow(iteration=iteration, **best.score.summary(), holdout=_summary_or_none(best.holdout),
                                 change=f"candidate {best.index}: " + ", ".join(best.verdict.edits)))
    say(f"  accepted candidate {best.index}: {best.score}")


def _summary(score: PlanScore) -> ScoreSummary:
    return ScoreSummary(**score.summary())


def _summary_or_none(score: PlanScore | None) -> ScoreSummary | None:
    return None if score is None else _summary(score)


def _held_out_fell(before: PlanScore, after: PlanScore, held_before: PlanScore, held_after: PlanScore) -> str:
    """Why a candidate that won on training lost: counts only, never a held-out input or answer."""
    if after.correct > before.correct:
        training = f"training rose from {before.correct}/{before.total} to {after.correct}/{after.total}"
    else:
        training = (f"training stayed at {after.correct}/{after.total} with fewer student tokens "
                    f"({before.tokens} to {after.tokens})")
    return (f"held-out score fell from {held_before.correct}/{held_before.total} to "
            f"{held_after.correct}/{held_after.total} while {training}: it fits the training examples, not the task "
            "(the held-out examples are never shown)")


def _add_usage(total: TeacherUsage, usage: TeacherUsage) -> None:
    for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "attempts"):
        setattr(total, name, getattr(total, name) + getattr(usage, name))
    total.usd = round(total.usd + usage.usd, 6)
    total.seconds += usage.seconds


def _with_provenance(state: CompileState, *, task: Task, examples: list[Example], teacher: Teacher,
                     student: Student, build: dict[str, Any] | None, holdout: int = 0) -> Plan:
    doc = plan_document(state.plan)
    doc.pop("content_hash")
    doc["provenance"] = {
        "student_model": student.model_name, "student_sha256": student.model_sha256, "student_build": build,
        "teacher": teacher.spec,
        "examples_sha256": examples_sha256(examples), "score_history": [r.to_json() for r in state.scores],
        "compiler_version": compiler_version(),
        "notes": f"compiled from task {task.name!r} on {len(examples)} examples{_held_out_note(state, holdout)}; "
                 f"{state.stop}",
    }
    return parse_plan(doc)


def _held_out_note(state: CompileState, holdout: int) -> str:
    # Provenance takes no new field (extra=forbid), so the count and the final score go into its notes
    if not holdout or state.holdout is None:
        return ""
    return (f" ({holdout} more held out from the teacher, final held-out score "
            f"{state.holdout.correct}/{state.holdout.total})")
