"""`sgde review`: what a security reviewer reads before a plan may run (Markdown, JSON or SARIF)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sgde.runtime.cli_output import fail
from sgde.runtime.errors import SgdeError


def review_command(
        plan_path: Path = typer.Argument(..., metavar="PLAN", help="plan file (.yaml or .json)"),
        output_format: str = typer.Option("md", "--format", help="md (people), json (scripts) or sarif "
                                          "(code-scanning tools)"),
        out: Optional[Path] = typer.Option(None, "--out", help="write the review here instead of stdout"),
        policy: str = typer.Option("default", "--policy", help="deployment policy the plan will run under: name "
                                   "or YAML file"),
        rerun_properties: bool = typer.Option(False, "--rerun-properties",
                                              help="run every code node's property tests in the sandbox now"),
) -> None:
    """Review a plan: every piece of code that will run, its audit findings, policy and property tests, the
    student's prompts, and where untrusted text flows. Exit 0 when the review is written, whatever it found
    (the `verdict:` line counts the findings); 2 on a bad plan, policy or usage."""
    from sgde.runtime.plan_io import load_plan

    from .review import RENDERERS, review_plan

    if output_format not in RENDERERS:
        fail(f"--format must be one of {', '.join(RENDERERS)}, not {output_format!r}")
    try:
        plan = load_plan(plan_path)
        text = RENDERERS[output_format](review_plan(plan, plan_path, policy=policy,
                                                    rerun_properties=rerun_properties))
    except SgdeError as exc:
        fail(exc)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    typer.echo(f"wrote {out}", err=True)
