"""Family files: YAML with programs and questions as literal blocks (or JSON), errors naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from sgde.runtime.yaml_load import load_yaml

from ..errors import FamilyError
from .model import Family, parse_family


class _Dumper(yaml.SafeDumper):
    """Programs and questions as literal blocks, so a diff reads like the code (as plan files do)."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(ch in value for ch in ("\x85", "\u2028", "\u2029")):  # PyYAML would read these back changed
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str_representer)


def dumps_family(family: Family) -> str:
    doc = family.model_dump(mode="json", exclude_none=True)
    for spec in doc["params"].values():
        if spec["type"] == "int":
            del spec["places"]  # always 0: noise for a reviewer
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def save_family(family: Family, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps_family(family), encoding="utf-8")
    tmp.replace(path)


def loads_family(text: str) -> Family:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise FamilyError(f"not valid YAML: {exc}") from None
    return parse_family(data)


def load_family(path: str | Path) -> Family:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FamilyError(f"cannot read family file {path}: {exc}") from None
    try:
        return loads_family(text) if path.suffix != ".json" else parse_family(json.loads(text))
    except json.JSONDecodeError as exc:
        raise FamilyError(f"{path}: not valid JSON: {exc}") from None
    except FamilyError as exc:
        exc.message = f"{path}: {exc.message}"
        raise
