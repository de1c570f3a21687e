"""Output parsers of llm nodes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgde.runtime.errors import OutputParseError
from sgde.runtime.parsers import parse_code_block, parse_json, parse_number, parse_output
from sgde.runtime.plan import RegexParser


@pytest.mark.parametrize("text,expected", [
    ("The answer is 1,234,567.", 1234567), ("x = -3.5, so y = 12", 12), ("about 2.5e3 units", 2500.0),
    ("result: 0.125", 0.125), ("-42", -42), ("2.0", 2.0),
])
def test_number(text, expected):
    value = parse_number(text)
    assert value == expected and type(value) is type(expected)


@given(st.integers(-10**15, 10**15))
def test_number_round_trips_integers_with_separators(n):
    assert parse_number(f"so the total is {n:,} dollars") == n


def test_number_first_and_missing():
    assert parse_number("3 apples and 4 pears", pick="first") == 3
    with pytest.raises(OutputParseError, match="no number"):
        parse_number("none at all")


def test_json_schema():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert parse_json('Sure! ```json\n{"a": 3}\n```', schema) == {"a": 3}
    assert parse_json('{"a": 3} trailing words', schema) == {"a": 3}
    with pytest.raises(OutputParseError, match="schema"):
        parse_json('{"a": "x"}', schema)
    with pytest.raises(OutputParseError, match="not JSON"):
        parse_json("{a: 3", schema)


def test_code_block():
    assert parse_code_block("Here:\n```python\ndef solution():\n    return 1\n```\nDone") == \
        "def solution():\n    return 1"
    assert parse_code_block("def solution():\n    return 2") == "def solution():\n    return 2"
    assert parse_code_block("```python\ndef f():\n    pass") == "def f():\n    pass"  # cut off by max_tokens


def test_regex_fallback():
    parser = RegexParser(kind="regex", pattern=r"answer: (\w+)", group=1)
    assert parse_output("the answer: yes", parser) == "yes"
    with pytest.raises(OutputParseError, match="does not match"):
        parse_output("nothing", parser)
    assert parse_output(" nothing ", parser.model_copy(update={"fallback": "text"})) == "nothing"
