"""The plan IR: round trips through YAML and JSON, and one typed error per malformed case."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgde.runtime.errors import PlanError
from sgde.runtime.plan import Plan, sha256_text
from sgde.runtime.plan_io import dumps_json, dumps_yaml, load_plan, loads_plan, parse_plan, save_plan
from tests.conftest import REPO

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
# any text, including the characters YAML finds awkward (trailing spaces, tabs, \x85, unicode line breaks)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
code_texts = st.lists(st.sampled_from(["def run(inputs):", "    x = 1  ", "\treturn {'x': x}", "", "# é ✓",
                                       "s = '''a\\n b'''", "  "]), max_size=6).map("\n".join) | texts


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@st.composite
def plans(draw) -> Plan:
    input_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    available = list(input_names)
    nodes = []
    for i in range(draw(st.integers(1, 4))):
        node_id = f"n{i}_{draw(names)}"
        reads = draw(st.lists(st.sampled_from(available), min_size=1, max_size=2, unique=True))
        kind = draw(st.sampled_from(["llm", "code", "consensus"]))
        sampling = {"temperature": draw(st.floats(0, 2)), "max_tokens": draw(st.integers(1, 4096)),
                    "seed": draw(st.integers(0, 2**31 - 1)), "top_p": draw(st.floats(0.01, 1)),
                    "stop": draw(st.lists(texts.filter(bool), max_size=2))}
        llm = {"id": node_id, "kind": "llm", "reads": reads, "system": draw(texts),
               "user": _escape(draw(texts)) + "".join("{" + r + "}" for r in reads),
               "sampling": sampling,
               "shots": draw(st.lists(st.fixed_dictionaries({"user": texts, "assistant": code_texts}), max_size=2)),
               "parser": draw(st.sampled_from([{"kind": "number"}, {"kind": "text"}, {"kind": "code_block"},
                                                {"kind": "regex", "pattern": r"(\d+)", "group": 1},
                                                {"kind": "json", "schema": {"type": "object"}}]))}
        if kind == "llm":
            node = llm
        elif kind == "code":
            node = {"id": node_id, "kind": "code", "reads": reads, "source": draw(code_texts),
                    "policy": draw(st.sampled_from([None, "default", "strict"])),
                    "policy_override": draw(st.sampled_from([None, {"cpu_seconds": 1}, {"memory_mb": 128}]))}
        else:
            node = {"id": node_id, "kind": "consensus", "reads": reads, "child": llm, "n": draw(st.integers(1, 9)),
                    "aggregator": draw(st.sampled_from([{"kind": "median"},
                                                        {"kind": "majority", "tolerance": 0.5, "tie": "largest"}]))}
        nodes.append(node)
        available.append(node_id)
    data = {"name": "p-" + draw(names), "description": draw(texts),
            "inputs": {n: {"type": draw(st.sampled_from(["string", "number", "any"]))} for n in input_names},
            "output": {"from": nodes[-1]["id"]}, "nodes": nodes,
            "provenance": {"teacher": draw(st.none() | texts), "score_history": [{"iteration": 0, "score": 0.5}]}}
    return parse_plan(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_yaml_round_trip(plan):
    assert loads_plan(dumps_yaml(plan)) == plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_json_round_trip(plan):
    assert loads_plan(dumps_json(plan), json_format=True) == plan


@pytest.mark.parametrize("text", ["\x85", "a\x85b\nc", "\u2028", "x\u2029\ny", "line\r\nbreak", "trailing  \n  ",
                                  "\ufeffbom", "\x00nul", "tab\tand\n\ttabs"])
def test_awkward_text_survives_yaml(text):
    """Characters PyYAML would change in plain, quoted or block style (found by hypothesis: NEL)."""
    data = BASE_PLAN()
    data["description"] = text
    data["nodes"][0]["system"] = text
    plan = parse_plan(data)
    assert loads_plan(dumps_yaml(plan)) == plan


def test_code_is_a_literal_block_in_yaml(tmp_path):
    data = BASE_PLAN()
    data["nodes"][1] = {"id": "add", "kind": "code", "reads": ["double"],
                        "source": "def run(inputs):\n    return {'y': inputs['double'] + 1}\n"}
    plan = parse_plan(data)
    path = tmp_path / "plan.yaml"
    save_plan(plan, path)
    text = path.read_text()
    assert "  source: |\n    def run(inputs):\n        return {'y': inputs['double'] + 1}\n" in text
    assert load_plan(path) == plan
    json_path = tmp_path / "plan.json"
    save_plan(plan, json_path)
    assert load_plan(json_path) == plan


EXAMPLE = REPO / "examples" / "gsmhard" / "pal.yaml"


def BASE_PLAN() -> dict:
    return {
        "name": "base",
        "inputs": {"x": {"type": "number"}},
        "output": {"from": "add.y", "type": "number"},
        "nodes": [
            {"id": "double", "kind": "llm", "reads": ["x"], "user": "Double {x}.", "parser": {"kind": "number"}},
            {"id": "add", "kind": "code", "reads": ["double"], "source": "def run(inputs):\n    return {'y': 1}\n"},
        ],
    }


def _mutate(**changes):
    def make():
        data = copy.deepcopy(BASE_PLAN())
        for path, value in changes.items():
            target = data
            keys = path.split("__")
            for key in keys[:-1]:
                target = target[int(key)] if key.isdigit() else target[key]
            last = keys[-1]
            if last.isdigit():
                target[int(last)] = value
            else:
                target[last] = value
        return data
    return make


MALFORMED = {
    "cycle": (_mutate(nodes__0__reads=["add"], nodes__0__user="Double {add}."), "double|add", "reads", "cycle"),
    "dangling input": (_mutate(nodes__1__reads=["nowhere"]), "add", "reads", "nowhere"),
    "duplicate id": (_mutate(nodes__1__id="double", output={"from": "double"}), "double", "id", "duplicate"),
    "unknown kind": (_mutate(nodes__1__kind="shell"), "add", "kind", "shell"),
    "unknown policy": (_mutate(nodes__1__policy="lenient"), "add", "policy", "lenient"),
    "loosening override": (_mutate(nodes__1__policy_override={"cpu_seconds": 10_000}), "add", "policy_override",
                           "cpu_seconds"),
    "template reads what the node does not": (_mutate(nodes__0__user="Double {y}."), "double", "user", "y"),
    "malformed placeholder": (_mutate(nodes__0__user="Double {x!r}."), "double", "user", "placeholder"),
    "code hash mismatch": (_mutate(nodes__1__sha256="0" * 64), "add", "sha256", "does not match"),
    "both sources": (_mutate(nodes__1__source_from="double"), "add", "source", "exactly one"),
    "unknown field": (_mutate(nodes__0__temperature=0.3), "double", "temperature", "Extra"),
    "bad id": (_mutate(nodes__1__id="Add-1"), "Add-1", "id", "pattern"),
    "bad sampling": (_mutate(nodes__0__sampling={"temperature": -1}), "double", "sampling.temperature", "greater"),
    "bad regex": (_mutate(nodes__0__parser={"kind": "regex", "pattern": "("}), "double", "parser.regex.pattern",
                  "compile"),
    "output dangles": (_mutate(output={"from": "ghost"}), None, "output.from", "ghost"),
    "self read": (_mutate(nodes__1__reads=["add"]), "add", "reads", ""),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_plan_names_node_and_field(case):
    make, node, field, words = MALFORMED[case]
    with pytest.raises(PlanError) as info:
        plan = parse_plan(make())
        from sgde.runtime.executor import Executor  # policy tightening is checked against the deployment
        Executor(plan).close()
    err = info.value
    if node is None:
        assert err.node is None
    else:
        assert err.node in node.split("|"), (err.node, str(err))
    assert err.field is not None and err.field.startswith(field), (err.field, str(err))
    assert words.lower() in str(err).lower()


def test_content_hash_detects_an_edit(tmp_path):
    path = tmp_path / "p.yaml"
    save_plan(parse_plan(BASE_PLAN()), path)
    text = path.read_text().replace("Double {x}.", "Triple {x}.")
    path.write_text(text)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.field == "content_hash"


def test_code_sha_is_filled_and_checked():
    plan = parse_plan(BASE_PLAN())
    code = plan.node("add")
    assert code.sha256 == sha256_text(code.source)
    assert code.reviewed


@pytest.mark.parametrize("text,message", [("[1, 2", "not valid YAML"), ("- a\n- b\n", "mapping"),
                                          ("name: x\n", "inputs")])
def test_unreadable_documents(text, message):
    with pytest.raises(PlanError, match=message):
        loads_plan(text)


def test_missing_file_is_a_plan_error(tmp_path):
    with pytest.raises(PlanError, match="not found"):
        load_plan(tmp_path / "nope.yaml")


def test_example_plan_loads_and_marks_unreviewed_code():
    plan = load_plan(EXAMPLE)
    execute = plan.node("execute")
    assert execute.source_from == "program" and not execute.reviewed and execute.policy == "strict"
    assert json.loads(dumps_json(plan))["content_hash"] == plan.content_hash()
    assert yaml.safe_load(dumps_yaml(plan))["content_hash"] == plan.content_hash()
