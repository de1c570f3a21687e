"""A plan's regular expressions and JSON schemas, applied to the student's output with a bound on time.

A regex parser's pattern and a json parser's schema are teacher-written, and the text they read is the
student's output, which the input steers (prompt injection): Python's ``re`` backtracks without limit, so
``(a|aa)+$`` over 40 characters runs for hours and no thread can stop it. Every plan pattern runs under the
``regex`` module's timeout instead; JSON-schema validation uses a validator whose ``pattern`` keyword does the
same, and schemas are checked when the plan loads (a malformed schema used to fail at run time, deep inside
jsonschema). ``patternProperties`` is refused: jsonschema matches its patterns with ``re`` in several places
(additionalProperties, unevaluatedProperties), where no timeout can reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jsonschema
import regex
from jsonschema import ValidationError
from jsonschema.validators import extend, validator_for

PATTERN_TIMEOUT_S = 1.0  # one pattern over one output: sane patterns take microseconds


class PatternTimeout(Exception):
    """A plan's pattern ran past PATTERN_TIMEOUT_S on one text."""

    def __init__(self, pattern: str) -> None:
        super().__init__(f"pattern {pattern[:80]!r} ran for more than {PATTERN_TIMEOUT_S:g} s on the output "
                         "(catastrophic backtracking: nested or overlapping repetitions such as (a|aa)+)")


def compile_problem(pattern: str) -> str | None:
    """Why the pattern cannot be used, or None."""
    try:
        regex.compile(pattern)
    except (regex.error, TypeError, ValueError, OverflowError, RecursionError) as exc:
        return f"pattern does not compile: {exc}"
    return None


def search(pattern: str, text: str, flags: int = 0) -> regex.Match[str] | None:
    try:
        return regex.search(pattern, text, flags, timeout=PATTERN_TIMEOUT_S)
    except TimeoutError:
        raise PatternTimeout(pattern) from None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and search(pattern, instance) is None:
        yield ValidationError(f"{instance[:200]!r} does not match {pattern!r}")


def schema_problem(schema: Any) -> str | None:
    """Why the JSON schema cannot be used to check outputs, or None: it must be a valid schema of its
    dialect, every ``pattern`` must compile, every ``$ref`` must point into the schema itself (nothing is
    fetched), and no ``patternProperties`` (see the module's docstring)."""
    try:
        validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        return f"not a valid JSON schema at {path}: {exc.message[:200]}"
    except RecursionError:
        return "the schema is nested too deeply"
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "patternProperties" in node:
                return "patternProperties is not supported (its patterns would run without a time bound)"
            if isinstance(node.get("pattern"), str) and (problem := compile_problem(node["pattern"])):
                return problem
            for key in ("$ref", "$dynamicRef"):
                if isinstance(node.get(key), str) and (problem := _ref_problem(schema, node[key])):
                    return f"{key} {node[key][:80]!r}: {problem}"
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _ref_problem(root: Any, ref: str) -> str | None:
    """Only references into the schema itself (``#`` or ``#/json/pointer``): nothing is fetched, and a
    pointer that leads nowhere fails here rather than when an output is checked."""
    if not ref.startswith("#"):
        return "only references into the schema itself (#/...) are supported"
    node = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return "it points at nothing in the schema"
    return None


@lru_cache(maxsize=None)
def _bounded(base: Any) -> Any:
    """The dialect's validator class with the time-bounded ``pattern`` keyword."""
    return extend(base, {"pattern": _pattern})


def validate(value: Any, schema: dict[str, Any]) -> None:
    """jsonschema.validate with the time-bounded ``pattern``; raises ValidationError, PatternTimeout or
    RecursionError (an output nested deeper than Python's stack)."""
    checker = _bounded(validator_for(schema))(schema)
    error = jsonschema.exceptions.best_match(checker.iter_errors(value))
    if error is not None:
        raise error
