"""Output parsers of llm nodes: turn the student's text into a value."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import jsonschema
import referencing.exceptions
import regex

from . import patterns, strict_json
from .errors import OutputParseError
from .patterns import PatternTimeout
from .plan import CodeBlockParser, JsonParser, NumberParser, OutputParser, RegexParser, TextParser

# 1,234,567.89  -12.5  3e6  .5 ; commas only as thousands separators
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w])")
_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)


def parse_number(text: str, pick: str = "last") -> int | float:
    found = [m.group(0) for m in _NUMBER.finditer(text) if any(c.isdigit() for c in m.group(0))]
    if not found:
        raise OutputParseError(f"no number in the output: {text[:200]!r}", field="parser")
    raw = (found[-1] if pick == "last" else found[0]).replace(",", "")
    value = float(raw)
    if not math.isfinite(value):
        raise OutputParseError(f"the number {raw[:40]!r} is out of range (not finite)", field="parser")
    if value.is_integer() and not any(c in raw for c in ".eE") and abs(value) < 2**63:
        return int(raw)
    return value


def _json_candidate(text: str) -> str:
    fenced = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.DOTALL)
    if fenced:
        return fenced.group(1)
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    return text[start:] if start >= 0 else text


def parse_json(text: str, schema: dict[str, Any]) -> Any:
    candidate = _json_candidate(text).strip()
    try:
        value, _ = strict_json.raw_decode(candidate)
    except json.JSONDecodeError as exc:
        raise OutputParseError(f"output is not JSON ({exc.msg} at char {exc.pos}): {text[:200]!r}",
                               field="parser") from None
    except strict_json.NotStrictJson as exc:  # what reads it next (schema, code, trace) walks it
        raise OutputParseError(f"output is not plain JSON ({exc}): {text[:200]!r}", field="parser",
                               limit=exc.limit) from None
    try:
        patterns.validate(value, schema)
    except jsonschema.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise OutputParseError(f"output does not match the schema at {path}: {exc.message}", field="parser") from None
    except PatternTimeout as exc:
        raise OutputParseError(str(exc), field="parser.schema") from None
    except RecursionError:
        raise OutputParseError("output is nested too deeply to check against the schema", field="parser") from None
    except referencing.exceptions.Unresolvable as exc:  # e.g. an anchor the load-time check cannot follow
        raise OutputParseError(f"the schema's reference {exc!s:.120} does not resolve", field="parser.schema") \
            from None
    return value


def parse_code_block(text: str) -> str:
    match = _FENCE.search(text)
    return (match.group(1) if match else text).strip("\n")


def parse_output(text: str, parser: OutputParser) -> Any:
    match parser:
        case NumberParser():
            return parse_number(text, parser.pick)
        case JsonParser():
            return parse_json(text, parser.json_schema)
        case RegexParser():
            try:
                found = patterns.search(parser.pattern, text, regex.DOTALL)
            except PatternTimeout as exc:
                raise OutputParseError(str(exc), field="parser.pattern") from None
            if found is None:
                if parser.fallback == "text":
                    return text.strip()
                raise OutputParseError(f"pattern {parser.pattern!r} does not match the output: {text[:200]!r}",
                                       field="parser")
            try:
                return found.group(parser.group)
            except IndexError:
                raise OutputParseError(f"pattern has no group {parser.group!r}", field="parser.group") from None
        case TextParser():
            return text.strip() if parser.strip else text
        case CodeBlockParser():
            return parse_code_block(text)
    raise OutputParseError(f"unknown parser {parser!r}", field="parser")
