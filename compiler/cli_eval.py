"""`sgde eval`: score a plan on variants (`sgde family sample` draws them).

Same contract as the runtime's commands: one JSON object on stdout, progress
and messages on stderr; exit 0 ok, 2 bad usage, a bad plan or variants file,
or a student that cannot load. A wrong or failing item is a result, not an
exit status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sgde.runtime.cli_output import emit, fail
from sgde.runtime.errors import SgdeError


def eval_command(plan_path: Path = typer.Argument(..., metavar="PLAN", help="plan file (.yaml or .json)"),
                 variants_path: Path = typer.Argument(..., metavar="VARIANTS.jsonl",
                                                      help="id, input, answer per line (sgde family sample)"),
                 model: Optional[str] = typer.Option(None, "--model", envvar="SGDE_MODEL",
                                                     help="GGUF path or known model name"),
                 policy: str = typer.Option("default", "--policy", help="deployment policy: name or YAML file"),
                 items: bool = typer.Option(False, "--items", help="include every item's result"),
                 limit: Optional[int] = typer.Option(None, "--limit", min=1, help="score only the first N")) -> None:
    """Score a plan on variants; print one JSON object: accuracy, errors by type, time and tokens per item."""
    from sgde.runtime.executor import Executor
    from sgde.runtime.plan_io import load_plan

    from .evaluate import evaluate, load_variants

    student = executor = None
    try:
        plan = load_plan(plan_path)
        executor = Executor(plan, policy=policy, plan_dir=plan_path.parent)
        variants = load_variants(variants_path, check=executor.check_inputs)[:limit]
        if plan.needs_student:  # loaded up front: a missing model is a usage error
            from sgde.runtime.student.llama import LlamaStudent
            student = LlamaStudent(model)
            executor.close()
            executor = Executor(plan, student=student, policy=policy, plan_dir=plan_path.parent)
    except SgdeError as exc:
        _close(executor, student)
        fail(exc)

    def progress(index: int, item) -> None:
        status = "correct" if item.correct else (item.error["type"] if item.error else "wrong")
        typer.echo(f"[{index + 1}/{len(variants)}] {item.id}: {status} ({item.seconds:.2f} s)", err=True)

    try:
        report = evaluate(executor, variants, progress, model=student.model_name if student else None)
    except SgdeError as exc:  # e.g. the model fails to load: nothing else would work either
        fail(exc)
    finally:
        _close(executor, student)
    emit(report.model_dump(mode="json", exclude=None if items else {"items"}))


def _close(executor, student) -> None:
    if executor is not None:
        executor.close()
    if student is not None:
        student.close()
