"""Task families: rendering, validation, sampling in the real sandbox, derivation through a command: teacher."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgde.compiler.errors import FamilyError, TeacherReplyInvalid
from sgde.compiler.families import (
    Family,
    derive_family,
    draw_variants,
    dumps_family,
    load_family,
    loads_family,
    parse_number,
    render_number,
    render_original,
    sample_family,
    save_family,
    verify_family,
)
from sgde.compiler.teachers import make_teacher
from sgde.runtime.sandbox import make_backend

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "families" / "gsmhard-0230.yaml"
TEACHER = REPO / "tests" / "fixtures" / "family_teacher.py"

#: gsmhard-0230 from ../shared/data/gsmhard-dev.jsonl, except its target, set wrong on purpose: a family
#: must recompute answers, never read them from the record
EGGS = {
    "id": "gsmhard-0230",
    "input": "In a family of 6134941, three people eat three eggs each day while the rest eat two eggs each day. "
             "If they eat eggs every day, how many eggs will the family consume in a week?",
    "code": '\ndef solution():\n    """In a family of 5, three people eat three eggs each day while the rest eat two eggs '  # noqa: E501
            'each day. If they eat eggs every day, how many eggs will the family consume in a week?"""\n    '
            'family_size = 6134941\n    people_three_eggs = 3\n    people_two_eggs = family_size - '
            'people_three_eggs\n    eggs_per_day = people_three_eggs * 3 + people_two_eggs * 2\n    eggs_per_week '
            '= eggs_per_day * 7\n    result = eggs_per_week\n    return result\n\n\n\n\n\n',
    "target": -1.0,
}
EGGS_ANSWER = (3 * 3 + (6134941 - 3) * 2) * 7


def family_doc(**changes) -> dict:
    """A small valid family as a document; ``changes`` replace top-level keys or template keys (t_...)."""
    doc = {
        "sgde_family": 1,
        "id": "apples",
        "source": {"dataset": "hand", "record_id": "apples-1", "question": "Ann has 5 apples and buys 7 more. "
                   "How many apples does Ann have?",
                   "program": "def solution():\n    return 5 + 7\n"},
        "params": {"a": {"type": "int", "min": 1, "max": 9_000_000, "original": 5},
                   "b": {"type": "int", "min": 1, "max": 9_000_000, "original": 7}},
        "program": "def solution(a, b):\n    return a + b\n",
        "template": {"sentences": ["{name} has {a} apples.", "{name} buys {b} more apples."],
                     "question": "How many apples does {name} have?",
                     "names": {"name": ["Ann", "Bea", "Cyd"]}},
    }
    for key, value in changes.items():
        if key.startswith("t_"):
            doc["template"][key[2:]] = value
        else:
            doc[key] = value
    return doc


@pytest.fixture(scope="module")
def backend():
    sandbox = make_backend("restricted")
    yield sandbox
    sandbox.close()


# --- rendering -----------------------------------------------------------------

@pytest.mark.parametrize("value, fmt, places, text", [
    (1234567, "plain", 0, "1234567"),
    (1234567, "commas", 0, "1,234,567"),
    (1234567, "words", 0, "1,234,567"),  # not exact with two decimals: commas
    (1200000, "words", 0, "1.2 million"),
    (1250000, "words", 0, "1.25 million"),
    (3000000000, "words", 0, "3 billion"),
    (45000000, "words", 0, "45 million"),
    (-2500000, "words", 0, "-2.5 million"),
    (999999, "words", 0, "999,999"),
    (12, "commas", 0, "12"),
    (1234.5, "plain", 2, "1234.50"),
    (1234.5, "commas", 2, "1,234.50"),
    (2000000.5, "words", 1, "2,000,000.5"),
    (3000000.0, "words", 2, "3 million"),
    (0.05, "plain", 2, "0.05"),
])
def test_render_number(value, fmt, places, text):
    assert render_number(value, fmt, places) == text
    assert parse_number(text) == Decimal(str(value))


@settings(max_examples=300, deadline=None)
@given(value=st.integers(-10**15, 10**15) | st.integers(1, 9999).map(lambda k: k * 10**6),
       fmt=st.sampled_from(["plain", "commas", "words"]))
def test_rendered_ints_parse_back(value, fmt):
    assert parse_number(render_number(value, fmt)) == value


@settings(max_examples=300, deadline=None)
@given(units=st.integers(-10**14, 10**14), places=st.integers(1, 4), fmt=st.sampled_from(["plain", "commas", "words"]))
def test_rendered_decimals_parse_back(units, places, fmt):
    exact = Decimal(units).scaleb(-places)
    text = render_number(float(exact), fmt, places)
    assert parse_number(text) == exact
    if fmt != "words":
        assert text.endswith(format(exact, "f")[-places:])  # the places are always written


# --- validation ----------------------------------------------------------------

def _field_of(doc: dict) -> str | None:
    with pytest.raises(FamilyError) as info:
        Family_from(doc)
    return info.value.field


def Family_from(doc: dict) -> Family:
    return loads_family(json.dumps(doc))


def test_valid_family_loads():
    family = Family_from(family_doc())
    assert render_original(family) == "Ann has 5 apples. Ann buys 7 more apples. How many apples does Ann have?"


@pytest.mark.parametrize("changes, field", [
    ({"t_question": "How many {fruit} does {name} have?"}, "template.question"),
    ({"t_sentences": ["{name} has {a} apples.", "She buys more apples."]}, "params.b"),
    ({"t_shuffle_groups": [[0, 2]]}, "template.shuffle_groups.0"),
    ({"t_shuffle_groups": [[0]]}, "template.shuffle_groups.0"),
    ({"t_sentences": ["{name} has {a apples.", "{name} buys {b} more."]}, "template.sentences.0"),
    ({"t_names": {"name": ["Ann"], "pet": ["Rex"]}}, "template.names.pet"),
    ({"t_names": {"name": []}}, "template.names.name"),
    ({"t_number_formats": ["plain", "roman"]}, "template.number_formats.1"),
    ({"t_irrelevant": ["It rains on {day}."]}, "template.irrelevant.0"),
    ({"program": "def answer(a, b):\n    return a + b\n"}, "program"),
    ({"program": "def solution(a):\n    return a\n"}, "program"),
    ({"program": "def solution(a, b, c):\n    return a\n"}, "program"),
    ({"program": "def solution(a, b):\n    return a +\n"}, "program"),
    ({"bogus": 1}, "bogus"),
    ({"id": "no spaces allowed"}, "id"),
])
def test_validation_names_the_field(changes, field):
    assert _field_of(family_doc(**changes)) == field


@pytest.mark.parametrize("spec, field", [
    ({"type": "int", "min": 10, "max": 1, "original": 5}, "params.a.min"),
    ({"type": "int", "min": 1, "max": 10, "original": 50}, "params.a.original"),
    ({"type": "int", "min": 1, "max": 10, "original": 5.5}, "params.a.original"),
    ({"type": "int", "min": 1, "max": 10, "original": 5, "places": 2}, "params.a.places"),
    ({"type": "int", "min": 0, "max": 100, "original": 5, "multiple_of": 10}, "params.a.original"),
    ({"type": "decimal", "min": 0, "max": 10, "original": 2.55, "places": 1}, "params.a.original"),
    ({"type": "decimal", "min": 0, "max": 10, "original": 2.5}, "params.a.places"),
    ({"type": "decimal", "min": 0, "max": 10, "original": 2.5, "places": 1, "multiple_of": 2}, "params.a.multiple_of"),
    ({"type": "int", "min": 1, "max": 10**30, "original": 5}, "params.a.max"),
    ({"type": "float", "min": 1, "max": 10, "original": 5}, "params.a.type"),
    ({"type": "int", "min": True, "max": 10, "original": 5}, "params.a.min"),
])
def test_param_validation_names_the_field(spec, field):
    doc = family_doc()
    doc["params"]["a"] = spec
    assert _field_of(doc) == field


def test_load_family_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("sgde_family: 1\nid: x\n", encoding="utf-8")
    with pytest.raises(FamilyError) as info:
        load_family(path)
    assert str(path) in str(info.value) and info.value.field == "source"
    path.write_text("a: [unclosed\n", encoding="utf-8")
    with pytest.raises(FamilyError, match="not valid YAML"):
        load_family(path)
    with pytest.raises(FamilyError, match="cannot read"):
        load_family(tmp_path / "missing.yaml")


def test_yaml_round_trip_with_literal_program(tmp_path):
    doc = family_doc()
    doc["params"]["c"] = {"type": "decimal", "min": 0.5, "max": 99.75, "places": 2, "original": 1.25}
    doc["program"] = "def solution(a, b, c):\n    total = a + b\n    return total * c\n"
    doc["template"]["sentences"].append("Each apple weighs {c} pounds.")
    doc["template"]["question"] = "How many pounds of apples does {name} have?"
    doc["template"]["irrelevant"] = ["The shop opens at 9."]
    family = Family_from(doc)
    text = dumps_family(family)
    assert "program: |\n  def solution(a, b, c):\n" in text
    path = tmp_path / "f.yaml"
    save_family(family, path)
    assert load_family(path) == family
    assert loads_family(dumps_family(EXAMPLE_FAMILY())) == EXAMPLE_FAMILY()


def EXAMPLE_FAMILY() -> Family:
    return load_family(EXAMPLE)


# --- sampling (real sandbox) -----------------------------------------------------

def test_sample_is_deterministic_per_seed(backend):
    family = Family_from(family_doc())
    first = sample_family(family, 8, seed=1, backend=backend)
    assert first == sample_family(family, 8, seed=1, backend=backend)
    other = sample_family(family, 8, seed=2, backend=backend)
    assert [v.input for v in other] != [v.input for v in first]
    assert [v.id for v in first] == [f"apples-s1-{i}" for i in range(8)]


def test_answers_are_recomputed_by_the_program(backend):
    family = Family_from(family_doc())
    for variant in sample_family(family, 10, seed=3, backend=backend):
        assert variant.answer == variant.params["a"] + variant.params["b"]
        question = variant.input["question"]
        assert question.endswith("have?")
        name = question.split(" ")[0]
        assert name in ("Ann", "Bea", "Cyd") and question.count(name) == 3


def test_formats_vary_across_variants(backend):
    doc = family_doc()
    doc["params"]["a"] = {"type": "int", "min": 1_000_000, "max": 9_000_000, "multiple_of": 100_000,
                          "original": 5_000_000}
    doc["source"]["question"] = "Ann has 5000000 apples and buys 7 more. How many apples does Ann have?"
    family = Family_from(doc)
    texts = [v.input["question"].split(" apples.")[0].split("has ")[1]
             for v in sample_family(family, 30, seed=0, backend=backend)]
    assert any("million" in t for t in texts)
    assert any("," in t and "million" not in t for t in texts)
    assert any(t.isdigit() for t in texts)


def test_shuffle_groups_and_distractors(backend):
    doc = family_doc(t_sentences=["{name} has {a} apples.", "Bo has {b} pears.", "Cy has 3 plums."],
                     t_shuffle_groups=[[0, 1, 2]], t_irrelevant=["The market closes at 6."],
                     t_question="How many fruits do {name}, Bo and Cy have?",
                     program="def solution(a, b):\n    return a + b + 3\n")
    family = Family_from(doc)
    orders, with_distractor = set(), 0
    for variant in sample_family(family, 40, seed=5, backend=backend):
        text = variant.input["question"]
        assert text.endswith("have?") and text.count("has") == 3
        orders.add(tuple(sorted(("Bo has", "Cy has", "apples."), key=text.index)))
        if "market" in text:
            with_distractor += 1
            assert text.index("market") < text.index("How many")
    assert len(orders) >= 4
    assert 5 < with_distractor < 35


def test_failing_draws_are_dropped_and_counted(backend):
    doc = family_doc(program="def solution(a, b):\n    return a / (b - 1)\n")
    doc["params"]["b"] = {"type": "int", "min": 1, "max": 3, "original": 2}
    family = Family_from(doc)
    result = draw_variants(family, 20, seed=0, backend=backend)
    assert len(result.variants) == 20
    assert result.dropped.get("node_raised", 0) > 0
    assert result.attempts == 20 + result.dropped["node_raised"]
    assert all(v.params["b"] != 1 for v in result.variants)


def test_a_family_that_never_answers_hits_the_attempt_limit(backend):
    doc = family_doc(program="def solution(a, b):\n    return 'many'\n")
    with pytest.raises(FamilyError) as info:
        draw_variants(Family_from(doc), 3, seed=0, backend=backend)
    assert info.value.limit == "max_attempts" and info.value.value == {"non_numeric": 60}


def test_a_program_the_sandbox_refuses_is_a_family_error(backend):
    doc = family_doc(program="import os\n\ndef solution(a, b):\n    return a + b\n")
    with pytest.raises(FamilyError) as info:
        sample_family(Family_from(doc), 2, seed=0, backend=backend)
    assert info.value.field == "program"


def test_example_family_verifies_and_samples(backend):
    family = EXAMPLE_FAMILY()
    verify_family(family, backend=backend)
    variants = sample_family(family, 10, seed=0, backend=backend)
    for v in variants:
        p = v.params
        eggs_per_day = p["big_eaters"] * p["big_eggs"] + (p["family_size"] - p["big_eaters"]) * p["small_eggs"]
        assert v.answer == eggs_per_day * 7


# --- deriving through a real command: teacher --------------------------------------

def _teacher(mode: str = "good"):
    return make_teacher(f"command:{sys.executable} {TEACHER} {mode}")


def test_derive_family_through_a_command_teacher(backend, tmp_path):
    family = derive_family(EGGS, _teacher(), dataset_name="gsmhard-dev.jsonl", backend=backend)
    assert family.id == "gsmhard-0230" and family.source.record_id == "gsmhard-0230"
    assert family.source.question == EGGS["input"] and family.source.dataset == "gsmhard-dev.jsonl"
    assert family.derived_by.teacher.startswith("command:")
    assert family.derived_by.usage.input_tokens == 1200 and family.derived_by.usage.seconds > 0
    variants = sample_family(family, 3, seed=0, backend=backend)
    assert all(v.answer != EGGS["target"] for v in variants)
    originals = {k: p.original for k, p in family.params.items()}
    assert originals == {"family_size": 6134941, "big_eaters": 3, "big_eggs": 3, "small_eggs": 2}
    path = tmp_path / "eggs.yaml"
    save_family(family, path)
    assert load_family(path) == family
    # the hand-written example is this teacher's draft
    example = EXAMPLE_FAMILY()
    assert (example.params, example.program, example.template) == (family.params, family.program, family.template)


def test_derive_rejects_a_program_that_disagrees_with_the_record(backend):
    with pytest.raises(FamilyError) as info:
        derive_family(EGGS, _teacher("bad"), dataset_name="gsmhard-dev.jsonl", backend=backend)
    assert info.value.field == "program"
    assert info.value.value == {"family": EGGS_ANSWER / 7 * 6, "record": EGGS_ANSWER}


def test_derive_rejects_an_invalid_draft_naming_the_field(backend):
    with pytest.raises(TeacherReplyInvalid) as info:
        derive_family(EGGS, _teacher("invalid"), dataset_name="d", backend=backend)
    assert info.value.field == "template.question"


def test_derive_rejects_a_template_that_loses_a_number(backend):
    record = dict(EGGS, input=EGGS["input"].replace("consume in a week", "consume in 1 week"))
    with pytest.raises(FamilyError) as info:
        derive_family(record, _teacher(), dataset_name="d", backend=backend)
    assert info.value.field == "template"


def test_derive_needs_the_record_fields(backend):
    with pytest.raises(FamilyError) as info:
        derive_family({"id": "x", "input": "q"}, _teacher(), dataset_name="d", backend=backend)
    assert info.value.field == "code"
