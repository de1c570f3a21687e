"""What every `sgde` command prints: one JSON line per result on stdout, `error: ...` on stderr.

Exit status: 0 ok, 1 a node, the sandboxed code or a check failed, 2 bad usage,
bad plan, bad policy, missing model, refused approval.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer

from .errors import SgdeError


def fail(error: SgdeError | str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(code)


def emit(obj: Any) -> None:
    """One JSON line on stdout; never a NaN/Infinity (not JSON), never a traceback."""
    try:
        line = json.dumps(obj, ensure_ascii=False, allow_nan=False)
        line.encode("utf-8")  # a lone surrogate (a JSON \ud800 escape in an input or an output) is not UTF-8
    except UnicodeEncodeError:
        line = json.dumps(obj, allow_nan=False)  # escaped: still the same JSON
    except (TypeError, ValueError, RecursionError) as exc:
        line = json.dumps({"ok": False, "error": {"type": "invalid_output",
                                                  "message": f"the result cannot be written as JSON: {exc}"}})
    typer.echo(line)
