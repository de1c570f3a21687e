"""Grammars are parsed by llama.cpp in a child process first: a broken or hostile one is a typed error that
names the node, never a crash of the process that runs the plan (needs llama-cpp-python, no model)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgde.runtime.errors import PlanError
from sgde.runtime.executor import resolve_plan
from sgde.runtime.plan_io import parse_plan
from sgde.runtime.policy import load_policy
from sgde.runtime.student.gbnf import MAX_GBNF_CHARS, gbnf_problem, grammar_from_json_schema

pytest.importorskip("llama_cpp")

DEEP = "root ::= " + "(" * 30_000 + '"a"' + ")" * 30_000  # overflows llama.cpp's recursive parser in-process


@pytest.mark.parametrize("gbnf", ['root ::= "yes" | "no"', 'root ::= [0-9]+ ("." [0-9]+)?\n# a comment\n',
                                  'root ::= item ("," item)*\nitem ::= [a-z]+', 'root ::= "a"{2,5}'])
def test_a_grammar_that_parses_has_no_problem(gbnf):
    assert gbnf_problem(gbnf) is None


@pytest.mark.parametrize(("gbnf", "reason"), [
    ("root ::= foo", "Undefined rule identifier 'foo'"),
    ('start ::= "a"', "does not contain a 'root' symbol"),
    ('root ::= root "a" | "b"', "left recursion"),
    ('root ::= "unterminated', "unexpected end of input"),
    ('root ::= ("a"{0,1000}){0,1000}', "repetition"),
    ('root ::= <think> "a"', "token by its text"),
    ('root ::= "a"\x00 junk', "NUL character"),
    ("root ::= " + '"a" ' * (MAX_GBNF_CHARS // 4), f"limit of {MAX_GBNF_CHARS:,}"),
    (DEEP, "crashed on it (SIGSEGV): nested too deeply"),
])
def test_a_broken_or_hostile_grammar_is_refused_with_llama_cpps_reason(gbnf, reason):
    problem = gbnf_problem(gbnf)
    assert problem is not None and reason in problem, problem


def _plan(gbnf: str | None, *, schema: dict | None = None) -> dict:
    grammar = {"gbnf": gbnf} if gbnf is not None else {"from_json_schema": True}
    parser = {"kind": "json", "schema": schema} if schema is not None else {"kind": "text"}
    return {"name": "p", "inputs": {"q": {"type": "string"}}, "output": {"from": "say", "type": "string"},
            "nodes": [{"id": "say", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": parser,
                       "grammar": grammar}]}


def test_resolving_a_plan_names_the_node_whose_grammar_would_crash_llama_cpp():
    with pytest.raises(PlanError, match="nested too deeply") as info:
        resolve_plan(parse_plan(_plan(DEEP)), load_policy("default"), None)
    assert (info.value.node, info.value.field) == ("say", "grammar")
    resolved = resolve_plan(parse_plan(_plan('root ::= "yes" | "no"')), load_policy("default"), None)
    assert resolved.grammars == {"say": 'root ::= "yes" | "no"'}


def test_a_grammar_derived_from_a_json_schema_is_checked_too():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    resolved = resolve_plan(parse_plan(_plan(None, schema=schema)), load_policy("default"), None)
    assert gbnf_problem(resolved.grammars["say"]) is None and "root" in resolved.grammars["say"]


@pytest.mark.parametrize("schema", [{"type": "array", "minItems": 100_000_000, "items": {"type": "integer"}},
                                    {"type": "string", "minLength": 100_000_000}])
def test_a_schema_whose_grammar_would_fill_the_memory_is_refused_in_the_child(schema):
    """llama.cpp's converter builds a 1.8 GB grammar for minItems 10^8 (37 s): the host would swap or die."""
    text, problem = grammar_from_json_schema(schema)
    assert text is None and ("needs more than 1024 MiB" in problem or "CPU" in problem), problem
    with pytest.raises(PlanError, match="cannot derive a grammar from the JSON schema") as info:
        resolve_plan(parse_plan(_plan(None, schema=schema)), load_policy("default"), None)
    assert (info.value.node, info.value.field) == ("say", "grammar")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet='root:=|()[]*+?{},"\\ ab\n#<>-^0123456789', max_size=200))
def test_any_text_gets_a_verdict_and_never_an_exception(text):
    problem = gbnf_problem("root ::= " + text)
    assert problem is None or (isinstance(problem, str) and 0 < len(problem) <= 300)


def test_validate_refuses_the_plan_and_survives(tmp_path):
    import subprocess
    import sys

    import yaml

    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(_plan(DEEP)))
    out = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "validate", str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, (out.returncode, out.stderr[-500:])  # not -11: the host did not crash
    assert "[node 'say', field 'grammar']" in out.stderr and "nested too deeply" in out.stderr
