"""Reading JSON Lines files (inputs, variants, examples, datasets) with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from . import strict_json
from .errors import InputError


def read_json_objects(path: str | Path, *, field: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; InputError(field=field) for an unreadable file,
    text that is not UTF-8, a line that is not JSON (or breaks a `strict_json` rule), or JSON that is not
    an object."""
    path = Path(path)
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field=field) from None
    with handle:
        try:
            lines = list(enumerate(handle, 1))
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason})", field=field) from None
    for lineno, line in lines:
        if not line.strip():
            continue
        try:
            row = strict_json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: not JSON ({exc.msg})", field=field) from None
        except strict_json.NotStrictJson as exc:
            raise InputError(f"{path}:{lineno}: {exc}", field=field, limit=exc.limit) from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{lineno}: each line must be a JSON object", field=field)
        yield lineno, row
