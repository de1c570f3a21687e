"""`sgde export-tests`: a plan's property tests as a standalone pytest file, run as CI would run it.

Real parts throughout: the `sgde` process, the restricted sandbox, and pytest in a subprocess on the
exported file.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sgde.runtime.plan import CodeNode, sha256_text
from sgde.runtime.plan_io import load_plan, save_plan
from sgde.runtime.policy import load_policy
from tests.conftest import REPO

FRONTIER = REPO / "tests" / "fixtures" / "frontier"
FAMILIES = ("gsmhard-0121", "gsmhard-0126", "gsmhard-0204")
#: the 0121 plan: a `normalize` node (regexes, Decimal) and an `answer` node (arithmetic), both with examples
LEGS = "gsmhard-0121"


def sgde(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sgde.compiler.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def run_pytest(test_file: Path, *, plan: Path | None = None) -> subprocess.CompletedProcess:
    """The exported file as CI runs it: its own pytest process, from its own directory."""
    env = {k: v for k, v in os.environ.items() if k != "SGDE_EXPORT_PLAN"}
    if plan is not None:
        env["SGDE_EXPORT_PLAN"] = str(plan)
    return subprocess.run([sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, timeout=300, cwd=test_file.parent, env=env)


def counts(result: subprocess.CompletedProcess) -> dict[str, int]:
    """pytest's summary line as {"passed": n, "failed": m, ...}."""
    summary = result.stdout.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|error|errors|skipped)", summary)}


def copy_family(tmp_path: Path, family: str) -> Path:
    """The family's recorded m=3 plan, copied into its own directory (where the exported file goes too)."""
    where = tmp_path / family
    where.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(FRONTIER / family / "plan-m3.yaml", where / "plan-m3.yaml"))


def export(plan: Path, out: Path, *extra) -> str:
    result = sgde("export-tests", plan, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    return out.read_text(encoding="utf-8")


def mutate(plan: Path, node_id: str, old: str, new: str, *, resave: bool) -> None:
    """Change one node's code in place. resave: write it back with recomputed hashes (as `sgde compile` would);
    otherwise drop the node's sha256 and the plan's content_hash, as someone editing the YAML by hand would."""
    if resave:
        loaded = load_plan(plan)
        nodes = tuple(n.model_copy(update={"source": n.source.replace(old, new),
                                           "sha256": sha256_text(n.source.replace(old, new))})
                      if n.id == node_id else n for n in loaded.nodes)
        save_plan(loaded.model_copy(update={"nodes": nodes}), plan)
    else:
        doc = yaml.safe_load(plan.read_text(encoding="utf-8"))
        node = next(n for n in doc["nodes"] if n["id"] == node_id)
        node["source"] = node["source"].replace(old, new)
        del node["sha256"], doc["content_hash"]
        plan.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    changed = load_plan(plan).node(node_id)  # the plan still loads, with the new code
    assert isinstance(changed, CodeNode) and new in changed.source and old not in changed.source


def expected_tests(plan_path: Path) -> int:
    """How many pytest tests the export of this plan holds: one property test per node, one per example."""
    nodes = [n for n in load_plan(plan_path).nodes if isinstance(n, CodeNode) and n.properties is not None]
    return sum(1 + len(n.properties.examples) for n in nodes)


# --- the recorded plans' tests pass, and catch changed code ------------------------------------

@pytest.mark.parametrize("family", FAMILIES)
def test_the_exported_tests_of_a_recorded_plan_pass(tmp_path, family):
    plan = copy_family(tmp_path, family)
    export(plan, plan.parent / "test_plan.py")
    result = run_pytest(plan.parent / "test_plan.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert counts(result) == {"passed": expected_tests(plan)}


def test_changed_code_fails_the_same_exported_file_and_the_failure_names_the_node(tmp_path):
    plan = copy_family(tmp_path, LEGS)
    test_file = plan.parent / "test_plan.py"
    exported = export(plan, test_file)
    # a slip in the arithmetic: the mutants' legs are taken from the insects' field
    mutate(plan, "answer", '* num(q.get("legs_per_mutant"))', '* num(q.get("legs_per_insect"))', resave=False)
    result = run_pytest(test_file)
    assert test_file.read_text(encoding="utf-8") == exported  # the very file, not a re-export
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert counts(result) == {"failed": 2, "passed": 5}  # answer's property test and its one example
    assert "FAILED test_plan.py::test_answer_properties" in out
    assert "FAILED test_plan.py::test_answer_examples[example1]" in out
    assert "test_normalize" not in out.split("short test summary info")[1]
    # hypothesis's own report of the draw, and a message naming the node and the invariant
    assert re.search(r"(Falsifying example|Failing test case): test_answer_properties\(", out)
    assert "node 'answer': invariant \"output['total'] == " in out
    assert "node 'answer': on inputs {'extract': {'spiders': 271" in out and "expected {'total': 50761165}" in out


def test_a_changed_constant_in_a_resaved_plan_fails_its_examples(tmp_path):
    plan = copy_family(tmp_path, LEGS)
    test_file = plan.parent / "test_plan.py"
    export(plan, test_file)
    mutate(plan, "normalize", '"million": 1000000,', '"million": 100000,', resave=True)
    result = run_pytest(test_file)
    out = result.stdout
    # the examples with 'million' in them fail; the invariants do not look at the values, so the draws pass
    assert result.returncode == 1 and counts(result) == {"failed": 2, "passed": 5}, out + result.stderr
    assert "FAILED test_plan.py::test_normalize_examples[example2]" in out
    assert "FAILED test_plan.py::test_normalize_examples[example4]" in out
    assert "node 'normalize': on inputs {'question': 'She sees 2.5 million" in out
    assert "test_answer" not in out.split("short test summary info")[1]


def test_the_environment_variable_points_the_file_at_another_copy_of_the_plan(tmp_path):
    plan = copy_family(tmp_path, LEGS)
    test_file = plan.parent / "test_plan.py"
    export(plan, test_file)
    elsewhere = tmp_path / "elsewhere" / "deployed.yaml"
    elsewhere.parent.mkdir()
    shutil.copy(plan, elsewhere)
    mutate(elsewhere, "answer", "+ num(q.get(\"mutants\"))", "- num(q.get(\"mutants\"))", resave=False)
    changed = run_pytest(test_file, plan=elsewhere)
    assert changed.returncode == 1 and counts(changed) == {"failed": 2, "passed": 5}, changed.stdout
    assert f"PlanUnderTest({str(elsewhere)!r})" in changed.stdout  # hypothesis's report shows which plan
    # and without the copy beside the file, the variable alone finds the (intact) plan
    intact = tmp_path / "intact.yaml"
    plan.rename(intact)
    assert run_pytest(test_file).returncode != 0  # nothing beside the file any more
    found = run_pytest(test_file, plan=intact)
    assert found.returncode == 0 and counts(found) == {"passed": 7}, found.stdout


def test_the_tests_run_the_code_under_the_exported_policy(tmp_path):
    """A deployment policy that allows no imports: `normalize` (re, decimal) is refused, `answer` still passes."""
    plan = copy_family(tmp_path, LEGS)
    policy = load_policy("default").model_dump(exclude={"source_dir"}) | {"name": "no-imports",
                                                                          "allowed_imports": []}
    policy_file = tmp_path / "policies" / "no-imports.yaml"
    policy_file.parent.mkdir()
    policy_file.write_text(yaml.safe_dump(policy), encoding="utf-8")
    test_file = plan.parent / "test_plan.py"
    text = export(plan, test_file, "--policy", policy_file)
    assert 'POLICY = HERE / "../policies/no-imports.yaml"' in text  # relative to the file, like the plan
    result = run_pytest(test_file)
    assert result.returncode == 1 and counts(result) == {"failed": 5, "passed": 2}, result.stdout
    summary = result.stdout.split("short test summary info")[1]
    assert "test_normalize_properties" in summary and "test_answer" not in summary
    assert "[node 'normalize'] Line 1: import of 're' is not allowed by the policy" in result.stdout


# --- the file itself ------------------------------------------------------------------------

def test_the_export_is_byte_identical_and_holds_no_machine_specific_path(tmp_path):
    plan = copy_family(tmp_path / "one", LEGS)
    first = export(plan, plan.parent / "test_plan.py")
    assert export(plan, plan.parent / "test_plan.py") == first
    # the same layout somewhere else gives the same bytes: nothing absolute, no time, no host in it
    other = copy_family(tmp_path / "two", LEGS)
    assert export(other, other.parent / "test_plan.py") == first
    assert str(tmp_path) not in first
    # the header says which plan, its hash, each node's code hash, the version and how to run it
    loaded = load_plan(plan)
    from sgde.runtime import __version__
    assert f"#   content_hash  {loaded.content_hash()}" in first
    for node_id in ("normalize", "answer"):
        assert re.search(rf"^#   {node_id} +{loaded.node(node_id).sha256} ", first, re.M)
    assert f"#   sgde          {__version__}" in first
    assert "# Run (in this directory):  python -m pytest test_plan.py -q" in first
    assert 'PLAN_FILE = "plan-m3.yaml"' in first
    # a file elsewhere reaches the plan by a relative path
    nested = export(plan, tmp_path / "one" / "ci" / "checks" / "test_legs.py")
    assert f'PLAN_FILE = "../../{LEGS}/plan-m3.yaml"' in nested


def test_the_exported_file_imports_only_sgde_hypothesis_pytest_and_the_stdlib(tmp_path):
    plan = copy_family(tmp_path, LEGS)
    tree = ast.parse(export(plan, plan.parent / "test_plan.py"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0  # nothing relative: the file stands alone
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("__import__", "exec", "eval")
    assert {"sgde", "hypothesis", "pytest"} <= imported
    assert imported - {"sgde", "hypothesis", "pytest"} <= set(sys.stdlib_module_names), imported
    assert {"json", "os", "pathlib"} <= imported


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines the tests; the plan is loaded only when they run
    return module


def test_awkward_text_survives_the_round_trip_and_student_code_gets_a_comment(tmp_path):
    """Quotes, backslashes, non-ASCII and line breaks in properties and descriptions; an entrypoint other
    than run; a node running student-written code next to one with fixed code."""
    awkward = ["a'''b''''c", "back\\slash \\u0027 \\", 'say "hi"', "caf\u00e9 \u2028 line\u0085break", "{x}"]
    properties = {"inputs": {"text": {"type": "choice", "values": awkward}},
                  "invariants": ["output['result'] == inputs['text'] + \"'''\""],
                  "examples": [{"inputs": {"text": t}, "output": {"result": t + "'''"}} for t in awkward],
                  "max_examples": 5}
    doc = {"name": "awkward", "inputs": {"text": {"type": "string"}, "program": {"type": "string"}},
           "output": {"from": "echo.result", "type": "string"},
           "nodes": [{"id": "echo", "kind": "code", "reads": ["text"], "entrypoint": "solve",
                      "description": "echo\nimport os  # not code: a comment line\r\n\u2028and more",
                      "source": "def solve(inputs):\n    return inputs['text'] + \"'''\"\n",
                      "properties": properties},
                     {"id": "student", "kind": "code", "reads": ["program"], "source_from": "program"}]}
    plan = tmp_path / "awkward.yaml"
    plan.write_text(yaml.safe_dump(doc), encoding="utf-8")
    test_file = tmp_path / "test_awkward.py"
    text = export(plan, test_file)
    assert text.isascii()  # every awkward character is escaped in the JSON or flattened in a comment
    assert "\nimport os  # not code" not in text and "# node 'echo': echo import os" in text
    assert "# node 'student'" in text and "runs student-written code (source_from 'program')" in text
    assert "def test_student" not in text
    module = load_module(test_file)
    assert module.ECHO_PROPERTIES == load_plan(plan).node("echo").properties.model_dump(mode="json",
                                                                                        exclude_none=True)
    assert not hasattr(module, "STUDENT_PROPERTIES")
    result = run_pytest(test_file)
    assert result.returncode == 0 and counts(result) == {"passed": 1 + len(awkward)}, result.stdout


# --- refusals ---------------------------------------------------------------------------------

def test_a_plan_without_properties_is_a_usage_error(tmp_path):
    doc = {"name": "bare", "inputs": {"a": {"type": "number"}}, "output": {"from": "double.value"},
           "nodes": [{"id": "double", "kind": "code", "reads": ["a"],
                      "source": "def run(inputs):\n    return {'value': 2 * inputs['a']}\n"}]}
    plan = tmp_path / "bare.yaml"
    plan.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = sgde("export-tests", plan, "--out", tmp_path / "test_bare.py")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "no property tests to export" in result.stderr and "node 'double' has fixed code but no properties" \
        in result.stderr
    assert not (tmp_path / "test_bare.py").exists()


def test_a_plan_with_only_student_written_code_is_a_usage_error(tmp_path):
    """The PAL plan's code is written by the student at run time: there is nothing to test, and an empty file
    would pass in CI while checking nothing, so the export refuses."""
    out = tmp_path / "test_pal.py"
    result = sgde("export-tests", REPO / "examples" / "gsmhard" / "pal.yaml", "--out", out)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and "node 'execute' runs student-written code (source_from" \
        in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (("missing.yaml", "--out", "test_x.py"), "plan file not found"),
    ((FRONTIER / LEGS / "plan-m3.yaml", "--out", "tests.txt"), "--out must name a .py file"),
    ((FRONTIER / LEGS / "plan-m3.yaml", "--out", "test_x.py", "--policy", "lenient"), "unknown policy 'lenient'"),
])
def test_bad_arguments_are_usage_errors(tmp_path, args, message):
    result = sgde("export-tests", *args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "test_x.py").exists()
