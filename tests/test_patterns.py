"""A plan's patterns and schemas read the student's output (which the input can steer): they run with a time
bound, and a schema that cannot work is refused when the plan loads, naming the node and the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgde.runtime.errors import OutputParseError, PlanError
from sgde.runtime.parsers import parse_output
from sgde.runtime.plan import JsonParser, RegexParser
from sgde.runtime.plan_io import parse_plan

EVIL = "(a|aa)+$"  # exponential backtracking: re runs for hours on 40 a's and a '!'
VICTIM = "a" * 40 + "!"


def _plan(parser: dict) -> dict:
    return {"name": "p", "inputs": {"q": {"type": "string"}}, "output": {"from": "say", "type": "string"},
            "nodes": [{"id": "say", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": parser}]}


def test_a_catastrophic_regex_parser_is_stopped_with_a_typed_error():
    with pytest.raises(OutputParseError, match="catastrophic backtracking") as info:
        parse_output(VICTIM, RegexParser(kind="regex", pattern=EVIL))
    assert info.value.field == "parser.pattern"


def test_a_catastrophic_schema_pattern_is_stopped_with_a_typed_error():
    parser = JsonParser(kind="json", schema={"type": "string", "pattern": EVIL})
    with pytest.raises(OutputParseError, match="catastrophic backtracking") as info:
        parse_output(f'"{VICTIM}"', parser)
    assert info.value.field == "parser.schema"
    assert parse_output('"aaaa"', parser) == "aaaa"  # a matching output still passes
    with pytest.raises(OutputParseError, match="does not match"):
        parse_output('"b"', parser)


def test_patterns_keep_their_meaning():
    parser = RegexParser(kind="regex", pattern=r"(?<=answer: )(?P<n>-?\d+)", group="n")
    assert parse_output("so the answer: 42.\nok", parser) == "42"
    assert parse_output("line one\nline two", RegexParser(kind="regex", pattern=r"one.line")) == "one\nline"


@pytest.mark.parametrize(("schema", "says"), [
    ({"type": "bogus"}, "not a valid JSON schema at type"),
    ({"type": "object", "patternProperties": {"^a": {"type": "integer"}}}, "patternProperties is not supported"),
    ({"items": {"patternProperties": {"x": {}}}}, "patternProperties is not supported"),
    ({"$ref": "https://example.com/schema.json"}, "only references into the schema itself"),
    ({"$ref": "#/$defs/missing", "$defs": {"n": {"type": "integer"}}}, "points at nothing"),
    ({"type": "string", "pattern": "(unclosed"}, "pattern"),
])
def test_a_schema_that_cannot_check_outputs_is_refused_when_the_plan_loads(schema, says):
    with pytest.raises(PlanError, match=says) as info:
        parse_plan(_plan({"kind": "json", "schema": schema}))
    assert (info.value.node, info.value.field) == ("say", "parser.json.schema")


def test_a_regex_that_does_not_compile_is_refused_when_the_plan_loads():
    with pytest.raises(PlanError, match="does not compile") as info:
        parse_plan(_plan({"kind": "regex", "pattern": "(a"}))
    assert (info.value.node, info.value.field) == ("say", "parser.regex.pattern")


def test_local_references_work_and_deep_outputs_are_a_typed_error():
    tree = {"$defs": {"t": {"type": "array", "items": {"$ref": "#/$defs/t"}}}, "$ref": "#/$defs/t"}
    parser = JsonParser(kind="json", schema=tree)
    assert parse_output("[[], [[]]]", parser) == [[], [[]]]
    deepest = "[" * 64 + "]" * 64  # strict_json.MAX_DEPTH: the schema check's recursion stays within the stack
    assert parse_output(deepest, parser) == json.loads(deepest)
    with pytest.raises(OutputParseError, match="nested more than 64 levels"):
        parse_output("[" * 500 + "]" * 500, parser)  # decodes, but checking it would overflow the stack


@settings(max_examples=150, deadline=None)
@given(pattern=st.text(alphabet="a()|+*?{}[]^$.\\b1,", max_size=14), text=st.text(alphabet="ab!\n", max_size=60))
def test_any_pattern_over_any_output_ends_in_a_value_or_a_typed_error(pattern, text):
    try:
        parser = RegexParser(kind="regex", pattern=pattern, fallback="text")
    except ValueError:
        return  # refused when the plan loads
    try:
        value = parse_output(text, parser)
    except OutputParseError as exc:
        assert exc.field in ("parser", "parser.group", "parser.pattern")
    else:
        assert isinstance(value, str) or value is None
