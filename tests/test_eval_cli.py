"""`sgde family derive|sample` and `sgde eval` through the real command line (typer's CliRunner)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sgde.compiler.cli import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "families" / "gsmhard-0230.yaml"
TEACHER = REPO / "tests" / "fixtures" / "family_teacher.py"

# A plan with no llm node: it adds up every number of the question, in any of the three formats.
SUM_PLAN = """\
sgde_plan: 1
name: sum-numbers
inputs:
  question: {type: string}
output: {from: solve.result, type: number}
nodes:
- id: solve
  kind: code
  reads: [question]
  source: |
    import re

    SCALE = {"million": 10**6, "billion": 10**9, "trillion": 10**12}

    def run(inputs):
        total = 0
        for number, word in re.findall(r"(\\d[\\d,]*(?:\\.\\d+)?)(?: (million|billion|trillion))?", inputs["question"]):
            value = float(number.replace(",", ""))
            total += value * SCALE[word] if word else value
        if "{fail}" in inputs["question"]:
            raise ValueError("asked to fail")
        return {"result": total}
"""

SUM_FAMILY = """\
sgde_family: 1
id: sum
source:
  dataset: hand
  record_id: sum-1
  question: Ann has 5 apples. She buys 7 more apples. How many apples does she have?
  program: |
    def solution():
        return 5 + 7
params:
  a: {type: int, min: 1, max: 9000000, multiple_of: 1, original: 5}
  b: {type: int, min: 1000000, max: 5000000, multiple_of: 100000, original: 1000000}
program: |
  def solution(a, b):
      return a + b
template:
  sentences: ["Ann has {a} apples.", "She buys {b} more apples."]
  question: How many apples does she have?
"""


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def variants_file(tmp_path) -> Path:
    (tmp_path / "sum.yaml").write_text(SUM_FAMILY, encoding="utf-8")
    out = tmp_path / "variants.jsonl"
    result = invoke("family", "sample", tmp_path / "sum.yaml", "--n", "6", "--seed", "4", "--out", out)
    assert result.exit_code == 0, result.stderr
    return out


def plan_file(tmp_path: Path, fail_marker: str = "never-present") -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(SUM_PLAN.replace("{fail}", fail_marker), encoding="utf-8")
    return path


# --- family sample ---------------------------------------------------------------

def test_family_sample_prints_jsonl_deterministically():
    first = invoke("family", "sample", EXAMPLE, "--n", "5", "--seed", "3")
    assert first.exit_code == 0, first.stderr
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(rows) == 5
    assert set(rows[0]) == {"id", "input", "answer", "params"} and rows[0]["id"] == "gsmhard-0230-s3-0"
    assert "5 variants" in first.stderr
    assert invoke("family", "sample", EXAMPLE, "--n", "5", "--seed", "3").stdout == first.stdout
    assert invoke("family", "sample", EXAMPLE, "--n", "5", "--seed", "4").stdout != first.stdout


def test_family_sample_bad_file_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SUM_FAMILY.replace("original: 5}", "original: 0}"), encoding="utf-8")
    result = invoke("family", "sample", bad, "--n", "2")
    assert result.exit_code == 2
    assert "params.a.original" in result.stderr and str(bad) in result.stderr


# --- family derive ---------------------------------------------------------------

def _data_file(tmp_path: Path) -> Path:
    from tests.test_families import EGGS
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"id": "other", "input": "q", "code": "c"}) + "\n" + json.dumps(EGGS) + "\n",
                    encoding="utf-8")
    return data


def test_family_derive_writes_a_family(tmp_path):
    out = tmp_path / "eggs.yaml"
    result = invoke("family", "derive", _data_file(tmp_path), "--id", "gsmhard-0230", "--out", out,
                    env={"SGDE_TEACHER": f"command:{sys.executable} {TEACHER}"})
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["family"] == "gsmhard-0230" and summary["usage"]["input_tokens"] == 1200
    sample = invoke("family", "sample", out, "--n", "2")
    assert sample.exit_code == 0 and len(sample.stdout.splitlines()) == 2


def test_family_derive_errors(tmp_path):
    data = _data_file(tmp_path)
    no_teacher = invoke("family", "derive", data, "--id", "gsmhard-0230", "--out", tmp_path / "f.yaml",
                        env={"SGDE_TEACHER": ""})
    assert no_teacher.exit_code == 2 and "SGDE_TEACHER" in no_teacher.stderr
    teacher = f"command:{sys.executable} {TEACHER}"
    missing = invoke("family", "derive", data, "--id", "nope", "--out", tmp_path / "f.yaml", "--teacher", teacher)
    assert missing.exit_code == 2 and "'nope'" in missing.stderr
    bad = invoke("family", "derive", data, "--id", "gsmhard-0230", "--out", tmp_path / "f.yaml",
                 "--teacher", f"{teacher} bad")
    assert bad.exit_code == 1 and "program" in bad.stderr and not (tmp_path / "f.yaml").exists()


# --- eval ------------------------------------------------------------------------

def test_eval_code_only_plan(tmp_path, variants_file):
    result = invoke("eval", plan_file(tmp_path), variants_file)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["plan"] == "sum-numbers" and len(report["plan_hash"]) == 64 and report["model"] is None
    assert (report["n"], report["correct"], report["accuracy"], report["errors"]) == (6, 6, 1.0, {})
    assert report["tokens_in"] == report["tokens_out"] == 0 and report["seconds_per_item"] > 0
    assert "items" not in report
    assert result.stderr.count("correct") == 6


def test_eval_items_limit_and_errors(tmp_path, variants_file):
    # the plan fails whenever a number is written in words
    result = invoke("eval", plan_file(tmp_path, fail_marker="million"), variants_file, "--items", "--limit", "5")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == len(report["items"]) == 5
    failed = [i for i in report["items"] if i["error"]]
    assert failed and report["errors"] == {"node_raised": len(failed)}
    assert report["correct"] == 5 - len(failed)
    item = report["items"][0]
    assert set(item) >= {"id", "answer", "prediction", "correct", "error", "seconds"}
    words = [json.loads(line) for line in variants_file.read_text().splitlines()][:5]
    assert [("million" in v["input"]["question"]) for v in words] == [bool(i["error"]) for i in report["items"]]


@pytest.mark.parametrize("content, needle", [
    ('{"id": "a", "input": {"question": "1"}, "answer": 1}\nnot json\n', ":2: not JSON"),
    ('{"id": "a", "input": {"question": "1"}}\n', "'answer'"),
    ('{"id": "a", "input": {"problem": "1"}, "answer": 1}\n', "input.problem"),
    ('{"id": "a", "input": {"question": 1}, "answer": 1}\n', "input.question"),
])
def test_eval_bad_variants_file_exits_2(tmp_path, content, needle):
    variants = tmp_path / "v.jsonl"
    variants.write_text(content, encoding="utf-8")
    result = invoke("eval", plan_file(tmp_path), variants)
    assert result.exit_code == 2
    assert needle in result.stderr and str(variants) in result.stderr


def test_eval_bad_plan_exits_2(tmp_path, variants_file):
    missing = invoke("eval", tmp_path / "nope.yaml", variants_file)
    assert missing.exit_code == 2 and "not found" in missing.stderr


LLM_PLAN = """\
sgde_plan: 1
name: tiny-direct
inputs:
  question: {type: string}
output: {from: answer, type: number}
nodes:
- id: answer
  kind: llm
  reads: [question]
  system: Answer with one number.
  user: '{question}'
  sampling: {max_tokens: 12}
  parser: {kind: number}
"""


@pytest.mark.model
def test_eval_with_a_small_model(tmp_path, tiny_model_path):
    plan = tmp_path / "llm.yaml"
    plan.write_text(LLM_PLAN, encoding="utf-8")
    variants = tmp_path / "v.jsonl"
    sample = invoke("family", "sample", EXAMPLE, "--n", "2", "--out", variants)
    assert sample.exit_code == 0, sample.stderr
    result = invoke("eval", plan, variants, "--model", tiny_model_path, "--items")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n"] == 2 and report["model"] and report["tokens_in"] > 0 and report["tokens_out"] > 0
    assert sum(report["errors"].values()) + report["correct"] <= 2
    assert all(item["seconds"] > 0 for item in report["items"])
