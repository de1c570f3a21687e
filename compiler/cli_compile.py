"""`sgde compile`: the SGDe loop from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import typer

from sgde.runtime.errors import SgdeError

if TYPE_CHECKING:
    from .loop import CompileOutcome
    from .teachers import Teacher


def compile_command(
        task_path: Path = typer.Argument(..., metavar="TASK.yaml", help="the task: inputs, output, optional seed plan"),
        examples: Path = typer.Option(..., "--examples", help="JSONL of {id, input, answer}; the first m are used "
                                      "(and the K after them with --holdout)"),
        m: int = typer.Option(3, "--m", min=1, max=50, help="training examples the teacher sees"),
        holdout: int = typer.Option(0, "--holdout", min=0, max=500, metavar="K",
                                    help="the K examples after the first m: never shown to the teacher; a "
                                    "candidate that scores worse on them than the current plan is rejected"),
        teacher_spec: Optional[str] = typer.Option(None, "--teacher", envvar="SGDE_TEACHER",
                                                   help="anthropic:MODEL | local:GGUF | command:CMD | replay:FILE"),
        out: Path = typer.Option(..., "--out", help="where to write the compiled plan (YAML)"),
        transcript: Optional[Path] = typer.Option(None, "--transcript", help="also copy the teacher transcript here"),
        run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="checkpoints and transcript "
                                               "(default: OUT's name + .run)"),
        resume: bool = typer.Option(False, "--resume", help="continue the compile in --run-dir"),
        seed: int = typer.Option(0, "--seed", min=0, help="shifts the student's sampling seeds"),
        samples: int = typer.Option(2, "--samples", min=1, max=16, help="k: samples per example"),
        max_teacher_calls: int = typer.Option(8, "--max-teacher-calls", min=0),
        max_usd: Optional[float] = typer.Option(None, "--max-usd", min=0),
        patience: int = typer.Option(3, "--patience", min=1, help="stop after this many iterations with no gain"),
        model: Optional[str] = typer.Option(None, "--model", envvar="SGDE_MODEL", help="student GGUF or model name"),
        policy_name: str = typer.Option("default", "--policy", help="deployment policy for code nodes"),
        report: Optional[Path] = typer.Option(None, "--report", help="Markdown report (default: OUT.report.md)"),
) -> None:
    """Compile TASK into a plan: the teacher critiques the student's traces, verified edits that score better win."""
    from sgde.runtime.plan_io import save_plan
    from sgde.runtime.policy import load_policy
    from sgde.runtime.sandbox import make_backend
    from sgde.runtime.student.llama import LlamaStudent
    from sgde.runtime.student.models import sha256_file

    from .loop import CompileOptions, CompileOutcome, last_checkpoint, run_compile
    from .report import render_report
    from .task import load_split, load_task, seed_plan
    from .teachers import make_teacher

    def say(text: str) -> None:
        typer.echo(text, err=True)

    if not teacher_spec:
        typer.echo("error: no teacher: pass --teacher SPEC or set SGDE_TEACHER", err=True)
        raise typer.Exit(2)
    run_dir = run_dir or out.with_name(out.stem + ".run")
    # a run dir holding an earlier compile is refused: its checkpoints are not this compile's outcome
    earlier = not resume and any(run_dir.glob("checkpoint-*.json"))
    student = teacher = None
    sandboxes = {}
    try:
        task = load_task(task_path)
        plan = seed_plan(task, task_path)
        train, held_out = load_split(examples, task, m, holdout)
        policy = load_policy(policy_name)
        teacher = make_teacher(teacher_spec)
        threads = _recorded_threads(teacher, run_dir if resume else None)
        if threads is not None:
            say(f"the student runs with the recorded thread count ({threads}): greedy output depends on it")
        student = LlamaStudent(model, n_threads=threads)
        if student.model_sha256 is None:  # a GGUF given by path: the plan's provenance still names its hash
            say(f"hashing {student.model_path.name} for the plan's provenance")
            student.model_sha256 = sha256_file(student.model_path)
        sandboxes = {"restricted": make_backend("restricted")}
        result = run_compile(task=task, seed=plan, examples=train, teacher=teacher, student=student, policy=policy,
                             sandboxes=sandboxes, run_dir=run_dir, resume=resume,
                             options=CompileOptions(samples=samples, seed=seed, max_teacher_calls=max_teacher_calls,
                                                    max_usd=max_usd, patience=patience), say=say,
                             holdout=held_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_plan(result.plan, out)
        report_path = report or out.with_name(out.stem + ".report.md")
        report_path.write_text(render_report(result), encoding="utf-8")
        say(f"wrote {out} ({result.state.stop}); report {report_path}")
        _tell_teacher(teacher_spec, result.outcome(out=out, report=report_path), say)
    except SgdeError as exc:
        typer.echo(f"error: {exc}", err=True)
        _tell_teacher(teacher_spec, CompileOutcome.of(None if earlier else last_checkpoint(run_dir),
                                                      run_dir=run_dir, error=exc), say)
        usage = ("compile_error", "plan_invalid", "policy_invalid", "settings_invalid")
        raise typer.Exit(2 if exc.type_name in usage else 1) from None
    finally:
        if transcript is not None and (run_dir / "transcript.jsonl").exists():
            transcript.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir / "transcript.jsonl", transcript)
        for backend in sandboxes.values():
            backend.close()
        if student is not None:
            student.close()
        if teacher is not None:
            teacher.close()


def _recorded_threads(teacher: Teacher, run_dir: Optional[Path]) -> Optional[int]:
    """The thread count a replay (or a resumed compile) must give the student: the recorded one, if any."""
    from .teachers import TranscriptTeacher, load_transcript
    from .teachers.transcript import recorded_threads

    if isinstance(teacher, TranscriptTeacher):  # replay:FILE
        return recorded_threads(teacher.recorded)
    if run_dir is not None and (run_dir / "transcript.jsonl").exists():
        return recorded_threads(load_transcript(run_dir / "transcript.jsonl"))
    return None


def _tell_teacher(spec: str, outcome: CompileOutcome, say: Callable[[str], None]) -> None:
    """The file-drop relay's teacher learns how the compile ended (DIR/outcome.json); other teachers are not told."""
    from .teachers.relay import relay_dir, write_outcome

    folder = relay_dir(spec)
    if folder is None:
        return
    try:
        path = write_outcome(folder, outcome.model_dump(mode="json"))
    except OSError as exc:
        say(f"warning: cannot write the compile's outcome for the relay's teacher to {folder}: {exc}")
        return
    say(f"outcome for the relay's teacher: {path}")
