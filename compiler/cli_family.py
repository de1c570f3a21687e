"""`sgde family derive|sample`: make task families and draw variants (`sgde eval` scores a plan on them).

Same contract as the runtime's commands: results as JSON on stdout, progress
and messages on stderr; exit 0 ok, 1 the work itself failed (the teacher, a
family that does not verify or sample), 2 bad usage or a bad file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from sgde.runtime.cli_output import emit, fail
from sgde.runtime.errors import InputError, SgdeError
from sgde.runtime.jsonl import read_json_objects

family_app = typer.Typer(no_args_is_help=True, help="Task families: derive one from a dataset record, draw variants.")


def _find_record(path: Path, record_id: str) -> dict[str, Any]:
    for _lineno, row in read_json_objects(path, field="data"):
        if row.get("id") == record_id:
            return row
    raise InputError(f"{path}: no record with id {record_id!r}", field="id")


@family_app.command("derive")
def family_derive(data: Path = typer.Argument(..., metavar="DATA.jsonl", help="dataset, one JSON record a line"),
                  record_id: str = typer.Option(..., "--id", help="id of the record to derive from"),
                  out: Path = typer.Option(..., "--out", help="family file to write (.yaml)"),
                  teacher_spec: Optional[str] = typer.Option(
                      None, "--teacher", envvar="SGDE_TEACHER",
                      help="anthropic:MODEL, local:GGUF, command:CMD or replay:FILE (default: $SGDE_TEACHER)")) -> None:
    """Ask a teacher to turn one record into a family, verify it against the record, and save it."""
    from .families import derive_family, save_family
    from .teachers import make_teacher

    if not teacher_spec:
        fail("no teacher: give --teacher SPEC or set SGDE_TEACHER (anthropic:MODEL, local:GGUF, command:CMD, "
              "replay:FILE)")
    try:
        record = _find_record(data, record_id)
        teacher = make_teacher(teacher_spec)
    except SgdeError as exc:
        fail(exc)
    typer.echo(f"deriving a family from {record_id} with {teacher.spec}", err=True)
    try:
        family = derive_family(record, teacher, dataset_name=data.name)
        save_family(family, out)
    except SgdeError as exc:
        fail(exc, code=1)
    except OSError as exc:
        fail(f"cannot write {out}: {exc}")
    finally:
        teacher.close()
    usage = family.derived_by.usage.model_dump() if family.derived_by else {}
    emit({"family": family.id, "out": str(out), "params": sorted(family.params), "teacher": teacher.spec,
           "usage": usage})


@family_app.command("sample")
def family_sample(family_path: Path = typer.Argument(..., metavar="FAMILY.yaml"),
                  n: int = typer.Option(..., "--n", min=0, help="number of variants"),
                  seed: int = typer.Option(0, "--seed", help="the same seed draws the same variants"),
                  out: Optional[Path] = typer.Option(None, "--out", help="write the JSONL here instead of stdout")
                  ) -> None:
    """Draw N variants (answers recomputed in the sandbox); print them as JSONL: id, input, answer, params."""
    from .errors import FamilyError
    from .families import draw_variants, load_family
    try:
        family = load_family(family_path)
    except SgdeError as exc:
        fail(exc)
    try:
        result = draw_variants(family, n, seed)
    except FamilyError as exc:
        fail(exc, code=1)
    except SgdeError as exc:  # the sandbox cannot run here
        fail(exc)
    lines = "".join(v.model_dump_json() + "\n" for v in result.variants)
    if out is None:
        sys.stdout.write(lines)
        sys.stdout.flush()
    else:
        try:
            out.write_text(lines, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {out}: {exc}")
    dropped = f", dropped {result.dropped}" if result.dropped else ""
    typer.echo(f"{family.id}: {len(result.variants)} variants in {result.attempts} draws{dropped}", err=True)
