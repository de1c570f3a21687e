"""YAML documents sgde reads refuse aliases: a 1 KB plan of aliases of aliases expands to 43 million values."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from sgde.runtime import plan_io
from sgde.runtime.errors import PlanError, PolicyError
from sgde.runtime.plan_io import dumps_yaml, loads_plan
from sgde.runtime.policy import load_policy
from sgde.runtime.yaml_load import load_yaml
from tests.conftest import REPO

LEVELS = "\n".join(f"        {b}: &{b} {{anyOf: [{', '.join(['*' + a] * 9)}]}}"
                   for a, b in zip("abcdefg", "bcdefgh", strict=True))
BOMB = f"""name: p
inputs: {{q: {{type: string}}}}
output: {{from: say, type: string}}
nodes:
- id: say
  kind: llm
  reads: [q]
  user: "{{q}}"
  parser:
    kind: json
    schema:
      $defs:
        a: &a {{enum: [x, y]}}
{LEVELS}
      $ref: "#/$defs/h"
"""


def test_an_alias_bomb_plan_is_refused_at_the_alias_line(tmp_path):
    with pytest.raises(PlanError, match=r"aliases \(\*a\) are not allowed") as info:
        loads_plan(BOMB)
    assert "line 14" in info.value.message
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    out = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "validate", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "not allowed" in out.stderr


def test_a_policy_with_an_alias_is_refused(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("backend: restricted\ndeny_network: &no true\nread_only: *no\n")
    with pytest.raises(PolicyError, match="aliases"):
        load_policy(str(path))


def test_anchors_without_aliases_and_plain_yaml_still_load():
    assert load_yaml("a: &x 1\nb: [1, 2]\n") == {"a": 1, "b": [1, 2]}
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: !!python/object:os.system ls\n")  # still the safe loader


def test_a_saved_plan_has_no_aliases_even_for_values_it_repeats():
    shared = {"temperature": 0.7, "stop": ["\n"]}
    text = yaml.dump({"one": shared, "two": shared}, Dumper=plan_io._PlanDumper)
    assert "&id" not in text and load_yaml(text) == {"one": shared, "two": shared}
    plan = loads_plan((REPO / "examples" / "gsmhard" / "pal_sc.yaml").read_text())
    assert loads_plan(dumps_yaml(plan)).content_hash() == plan.content_hash()
