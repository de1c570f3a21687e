"""The red-team corpora: hostile snippets and must-run programs with machine-readable headers.

Two folders, one format (see ``../shared/redteam/README.md``): the shared corpus (``../shared/redteam``, or
``SGDE_REDTEAM_DIR``) and ours (``tests/redteam``), which adds hostile subclasses on every guarded path, the
stdlib gadget class, poison/victim pairs (``@victim``) and more legitimate programs.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import IN_CI, REPO

SHARED_DIR = Path(os.environ.get("SGDE_REDTEAM_DIR", REPO.parent / "shared" / "redteam"))
OWN_DIR = REPO / "tests" / "redteam"
_HEADER = re.compile(r"^# @(\w+):\s*(.*)$")


@dataclass
class Case:
    id: str
    path: Path
    expect: str
    layer: str
    category: str = ""
    inputs: dict = field(default_factory=dict)
    expected_output: dict | None = None
    victim: str | None = None

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def is_attack(self) -> bool:
        return self.expect != "ok" or self.id.startswith("poison_")


def _parse(path: Path) -> Case:
    headers: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if match:
            headers[match.group(1)] = match.group(2)
    word = lambda key: headers[key].split()[0]  # noqa: E731 - "reject   (reject = ...)" -> "reject"
    expected = headers.get("expected_output")
    return Case(id=path.stem, path=path, expect=word("expect"), layer=word("layer"),
                category=headers.get("category", "").split()[0] if headers.get("category") else "",
                inputs=json.loads(headers["inputs"]) if "inputs" in headers else {},
                expected_output=json.loads(expected) if expected else None,
                victim=word("victim") if "victim" in headers else None)


def load_cases(layers: tuple[str, ...], *, own: bool = True) -> list[Case]:
    """Every case of the given layers, shared corpus first (fails loudly in CI when it is missing)."""
    if not SHARED_DIR.is_dir():
        if IN_CI:
            raise RuntimeError(f"red-team corpus not found at {SHARED_DIR}; set SGDE_REDTEAM_DIR")
        shared: list[Case] = []
    else:
        shared = [_parse(p) for p in sorted(SHARED_DIR.glob("*.py"))]
    ours = [_parse(p) for p in sorted(OWN_DIR.glob("*.py"))] if own else []
    return [case for case in shared + ours if case.layer in layers]


def pairs(cases: list[Case]) -> list[tuple[Case, Case]]:
    """(poison, victim) pairs: the victim must answer as if it ran alone, right after the poison."""
    by_id = {case.id: case for case in cases}
    return [(case, by_id[case.victim]) for case in cases if case.victim and case.victim in by_id]
