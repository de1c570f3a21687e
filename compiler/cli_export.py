"""`sgde export-tests`: a plan's property tests as a standalone pytest file for CI."""

from __future__ import annotations

from pathlib import Path

import typer

from sgde.runtime.cli_output import fail
from sgde.runtime.errors import SgdeError


def export_tests_command(
        plan_path: Path = typer.Argument(..., metavar="PLAN", help="plan file (.yaml or .json)"),
        out: Path = typer.Option(..., "--out", metavar="FILE.py", help="the pytest file to write"),
        policy: str = typer.Option("default", "--policy", help="deployment policy the tests run the code under: "
                                   "name or YAML file"),
) -> None:
    """Export the plan's property tests (each code node's draws, invariants and examples) as a pytest file.

    The properties are frozen into the file; when it runs, it checks the code of the plan beside it (or at
    SGDE_EXPORT_PLAN) as that code is then.
    """
    from sgde.runtime.plan_io import load_plan

    from .export_tests import export_tests, testable_nodes

    if out.suffix != ".py":
        fail(f"--out must name a .py file (pytest imports only those), got {str(out)!r}")
    try:
        plan = load_plan(plan_path)
        text = export_tests(plan, plan_path, out, policy=policy)
    except SgdeError as exc:
        fail(exc)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")
    nodes = [n.id for n in testable_nodes(plan)]
    typer.echo(f"wrote {out}: property tests of {len(nodes)} code node(s) ({', '.join(nodes)}); "
               f"run: python -m pytest {out} -q", err=True)
