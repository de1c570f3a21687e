"""End to end on the default student (Qwen2.5-Coder-1.5B): the PAL example plan answers GSM-Hard."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.model, pytest.mark.e2e]

PAL = REPO / "examples" / "gsmhard" / "pal.yaml"
# gsmhard-0242 (development split); its target 5639310 is right (7 + 5639306 - 3)
QUESTION = ("Erin has 7 lollipops. Her mother gives Erin another 5639306 lollipops. If Erin gives 3 of her "
            "lollipops to Ella, how many lollipops does she have left?")


def test_pal_example_answers_with_the_default_model(default_model_path, tmp_path):
    trace = tmp_path / "trace.jsonl"
    out = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "run", str(PAL), "--input",
                          f"question={QUESTION}", "--trace", str(trace)], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] and abs(result["output"] - 5639310) < 1e-3
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    program, execute = records
    assert "def solution" in program["output"] and program["tokens_out"] > 0
    assert execute["sandbox"]["reviewed"] is False and execute["sandbox"]["policy"].startswith("strict")
