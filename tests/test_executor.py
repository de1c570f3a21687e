"""The executor: dependency order, traces, typed node failures, consensus on a real model."""

from __future__ import annotations

import pytest

from sgde.runtime.errors import InputError, NodeFailed
from sgde.runtime.executor import Executor, render_template
from sgde.runtime.plan import sha256_text
from sgde.runtime.plan_io import parse_plan

ADD = "def run(inputs):\n    return {'sum': inputs['a'] + inputs['b']}\n"
DOUBLE = "def run(inputs):\n    return {'value': inputs['add']['sum'] * 2}\n"


def code_plan(**extra_nodes) -> dict:
    nodes = [
        # listed out of order on purpose: the executor follows the reads
        {"id": "double", "kind": "code", "reads": ["add"], "source": DOUBLE},
        {"id": "add", "kind": "code", "reads": ["a", "b"], "source": ADD},
    ]
    return {"name": "arith", "inputs": {"a": {"type": "number"}, "b": {"type": "number"}},
            "output": {"from": "double.value", "type": "number"}, "nodes": nodes, **extra_nodes}


def test_runs_in_dependency_order_with_a_trace():
    with Executor(parse_plan(code_plan())) as executor:
        result = executor.run({"a": 2, "b": 3.5})
    assert result.ok and result.output == 11.0
    assert [r.node for r in result.trace] == ["add", "double"]
    add = result.trace[0]
    assert add.inputs == {"a": 2, "b": 3.5} and add.output == {"sum": 5.5}
    assert add.sandbox.code_sha256 == sha256_text(ADD) and add.sandbox.reviewed
    assert add.sandbox.backend == "restricted" and add.sandbox.policy == "default"
    assert add.duration_s > 0 and add.error is None


def test_a_failing_node_is_typed_and_the_executor_goes_on():
    data = code_plan()
    data["nodes"][0]["source"] = "def run(inputs):\n    return {'value': 1 / (inputs['add']['sum'] - 5)}\n"
    with Executor(parse_plan(data)) as executor:
        bad = executor.run({"a": 2, "b": 3})
        assert not bad.ok and isinstance(bad.error, NodeFailed)
        assert bad.error.node == "double" and bad.error.cause["type"] == "node_raised"
        assert "ZeroDivisionError" in str(bad.error.to_dict())
        assert bad.trace[-1].node == "double" and bad.trace[-1].error["type"] == "node_raised"
        good = executor.run({"a": 2, "b": 4})
        assert good.ok and good.output == 1.0


def test_a_limit_in_one_node_does_not_stop_the_next_run():
    data = code_plan()
    data["nodes"][0]["source"] = ("def run(inputs):\n    if inputs['add']['sum'] > 100:\n        while True:\n"
                                  "            pass\n    return {'value': 0}\n")
    data["nodes"][0]["policy_override"] = {"cpu_seconds": 0.5, "wall_seconds": 2}
    with Executor(parse_plan(data)) as executor:
        stuck = executor.run({"a": 100, "b": 1})
        assert not stuck.ok and stuck.error.node == "double"
        assert stuck.error.cause["type"] == "timeout" and stuck.error.cause["limit"] in ("cpu_seconds", "wall_seconds")
        assert executor.run({"a": 1, "b": 1}).output == 0


def test_entrypoint_shim_for_pal_style_programs():
    data = code_plan()
    data["nodes"][0] = {"id": "double", "kind": "code", "reads": ["add"], "entrypoint": "solution",
                        "call": "no_args", "source": "def solution():\n    return 6 * 7\n"}
    data["output"] = {"from": "double.result", "type": "integer"}
    with Executor(parse_plan(data)) as executor:
        assert executor.run({"a": 0, "b": 0}).output == 42


@pytest.mark.parametrize("inputs,field", [({"a": 1}, "b"), ({"a": 1, "b": 2, "c": 3}, "c"),
                                          ({"a": "1", "b": 2}, "a"), ({"a": True, "b": 2}, "a")])
def test_bad_inputs_are_input_errors(inputs, field):
    with Executor(parse_plan(code_plan())) as executor:
        with pytest.raises(InputError) as info:
            executor.run(inputs)
    assert info.value.field == field


def test_output_type_is_checked():
    data = code_plan()
    data["output"] = {"from": "add", "type": "number"}
    with Executor(parse_plan(data)) as executor:
        result = executor.run({"a": 1, "b": 2})
    assert not result.ok and result.error.node == "add" and "number" in result.error.message


# --- llm and consensus nodes on the tiny real model -------------------------------

def llm_plan(node: dict) -> dict:
    return {"name": "llm", "inputs": {"q": {"type": "string"}}, "output": {"from": node["id"]}, "nodes": [node]}


@pytest.mark.model
def test_consensus_samples_with_distinct_seeds_and_reports_agreement(tiny_student):
    child = {"id": "pick", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": {"kind": "number"},
             "grammar": {"gbnf": 'root ::= [1-3]'},
             "sampling": {"temperature": 1.5, "max_tokens": 2, "seed": 10, "top_k": 0, "min_p": 0.0}}
    node = {"id": "pick", "kind": "consensus", "reads": ["q"], "child": child, "n": 7,
            "aggregator": {"kind": "majority", "tie": "smallest"}}
    with Executor(parse_plan(llm_plan(node)), student=tiny_student) as executor:
        result = executor.run({"q": "Pick 1, 2 or 3."})
    samples = [r for r in result.trace if r.sample is not None]
    assert [r.seed for r in samples] == list(range(10, 17))
    values = [r.output for r in samples]
    summary = result.trace[0]
    assert result.ok and result.output in (1, 2, 3)
    assert values.count(result.output) == max(values.count(v) for v in set(values))
    assert summary.agreement == pytest.approx(values.count(result.output) / 7)
    assert summary.samples_used == 7


@pytest.mark.model
def test_consensus_stops_early_once_agreement_is_reached(tiny_student):
    child = {"id": "pick", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": {"kind": "number"},
             "grammar": {"gbnf": 'root ::= [1-3]'}, "sampling": {"temperature": 0, "max_tokens": 2}}
    node = {"id": "pick", "kind": "consensus", "reads": ["q"], "child": child, "n": 9,
            "aggregator": {"kind": "median"}, "early_stop": {"agreement": 0.5, "min_samples": 2}}
    with Executor(parse_plan(llm_plan(node)), student=tiny_student) as executor:
        result = executor.run({"q": "Pick 1, 2 or 3."})
    assert result.ok and result.trace[0].samples_used == 5  # greedy samples agree: ceil(0.5 * 9) votes suffice
    assert result.trace[0].agreement == 1.0


@pytest.mark.model
def test_unparseable_llm_output_names_the_node(tiny_student):
    node = {"id": "word", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": {"kind": "number"},
            "grammar": {"gbnf": 'root ::= "yes" | "no"'}, "sampling": {"max_tokens": 3}}
    with Executor(parse_plan(llm_plan(node)), student=tiny_student) as executor:
        result = executor.run({"q": "Is water wet?"})
    assert not result.ok and result.error.node == "word"
    assert result.error.cause["type"] == "output_parse_error"
    assert result.trace[0].raw_text in ("yes", "no")


@pytest.mark.model
def test_llm_feeds_code(tiny_student):
    plan = {"name": "mix", "inputs": {"q": {"type": "string"}}, "output": {"from": "check.n", "type": "integer"},
            "nodes": [
                {"id": "guess", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": {"kind": "number"},
                 "grammar": {"gbnf": 'root ::= [1-9] [0-9]'}, "sampling": {"max_tokens": 3}},
                {"id": "check", "kind": "code", "reads": ["guess"],
                 "source": "def run(inputs):\n    return {'n': inputs['guess'] * 2}\n"}]}
    with Executor(parse_plan(plan), student=tiny_student) as executor:
        result = executor.run({"q": "A two-digit number?"})
    assert result.ok and result.output == 2 * result.trace[0].output
    assert result.trace[0].tokens_in > 0 and result.trace[0].tokens_out > 0


@pytest.mark.model
def test_a_lone_surrogate_from_a_code_node_reaches_the_student_escaped(tiny_student):
    # any Python string crosses back from a sandbox; a tokenizer cannot encode a lone surrogate, so the prompt
    # carries its escape (as a teacher request does) instead of failing the node as a model error
    plan = {"name": "odd", "inputs": {"q": {"type": "string"}}, "output": {"from": "guess", "type": "integer"},
            "nodes": [
                {"id": "make", "kind": "code", "reads": ["q"],
                 "source": "def run(inputs):\n    return {'s': inputs['q'] + chr(0xd800), 'l': [chr(0xdc80)]}\n"},
                {"id": "guess", "kind": "llm", "reads": ["make"], "user": "{make.s} {make.l}",
                 "parser": {"kind": "number"}, "grammar": {"gbnf": 'root ::= [1-9]'},
                 "sampling": {"max_tokens": 2}}]}
    with Executor(parse_plan(plan), student=tiny_student) as executor:
        result = executor.run({"q": "A digit? "})
    assert result.ok, result.error
    assert result.trace[0].output == {"s": "A digit? \ud800", "l": ["\udc80"]}
    assert render_template("{make.s} {make.l}", {"make": result.trace[0].output}, "guess") == \
        'A digit? \\ud800 ["\\udc80"]'
