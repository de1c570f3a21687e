"""The shared red-team corpus: hostile snippets and must-run programs with machine-readable headers."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import IN_CI, REPO

CORPUS_DIR = Path(os.environ.get("SGDE_REDTEAM_DIR", REPO.parent / "shared" / "redteam"))
_HEADER = re.compile(r"^# @(\w+):\s*(.*)$")


@dataclass
class Case:
    id: str
    path: Path
    expect: str
    layer: str
    inputs: dict = field(default_factory=dict)
    expected_output: dict | None = None

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _parse(path: Path) -> Case:
    headers: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if match:
            headers[match.group(1)] = match.group(2)
    word = lambda key: headers[key].split()[0]  # noqa: E731 - "reject   (reject = ...)" -> "reject"
    expected = headers.get("expected_output")
    return Case(id=path.stem, path=path, expect=word("expect"), layer=word("layer"),
                inputs=json.loads(headers["inputs"]) if "inputs" in headers else {},
                expected_output=json.loads(expected) if expected else None)


def load_cases(layers: tuple[str, ...]) -> list[Case]:
    if not CORPUS_DIR.is_dir():
        if IN_CI:
            raise RuntimeError(f"red-team corpus not found at {CORPUS_DIR}; set SGDE_REDTEAM_DIR")
        return []
    return [case for case in map(_parse, sorted(CORPUS_DIR.glob("*.py"))) if case.layer in layers]
