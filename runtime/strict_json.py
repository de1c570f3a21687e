"""JSON as sgde reads it wherever a value comes in: input files and ``-i``, JSON plans, a student's JSON output,
teacher replies and transcripts, a sandbox's replies.

Three rules on top of the grammar, because Python's ``json`` is laxer than the standard and than sgde:

- **nested at most MAX_DEPTH levels.** ``json`` recurses once per level: a line of 1,000 ``[`` ended
  ``sgde run --input-file`` in a RecursionError traceback from inside the parser, and a value just under
  Python's limit got through only to break the next walk over it (a schema check, the trace, a request);
- **numbers are finite**: no ``NaN``/``Infinity`` (json accepts them, no other JSON reader does) and no float
  that overflows to infinity (``1e999``);
- **integers have at most MAX_INT_DIGITS digits**, Python's own limit, which otherwise surfaced as a bare
  ValueError from inside the scanner.

What breaks one is a `NotStrictJson` (a ValueError) saying which rule and, in ``limit``, which limit; bad
syntax stays a ``json.JSONDecodeError``. YAML documents get the same depth bound in `yaml_load`.
"""

from __future__ import annotations

import json
import math
from typing import Any

#: levels of lists and objects a value may have; the sandbox runner's own limit on results, so any value a
#: node reads could also have been a node's result
MAX_DEPTH = 64
#: what Python itself converts (sys.get_int_max_str_digits())
MAX_INT_DIGITS = 4300


class NotStrictJson(ValueError):
    """JSON that Python parses but sgde does not take; ``limit`` names the limit broken, if one was."""

    def __init__(self, message: str, limit: str | None = None) -> None:
        super().__init__(message)
        self.limit = limit


class TooDeep(NotStrictJson):
    """Lists and objects nest more than ``depth`` levels."""

    def __init__(self, depth: int = MAX_DEPTH) -> None:
        super().__init__(f"nested more than {depth} levels deep (the limit)", limit="max_depth")
        self.depth = depth


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether lists, tuples and dicts nest more than ``limit`` levels in ``value`` (a scalar is level 0).

    Iterative, and it stops at the first level past the limit, so a cyclic value is "too deep" too."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if level > limit:
                return True
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _integer(text: str) -> int:
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise NotStrictJson(f"an integer of {digits} digits (the limit is {MAX_INT_DIGITS})", "int_digits")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStrictJson(f"{text[:40]} is out of range (not a finite number)")
    return value


def _no_constant(name: str) -> Any:
    raise NotStrictJson(f"{name} is not a JSON number")


DECODER = json.JSONDecoder(parse_int=_integer, parse_float=_finite, parse_constant=_no_constant)


def _checked(text: str | bytes, value: Any, max_depth: int) -> Any:
    brackets = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    if brackets > max_depth and too_deep(value, max_depth):  # fewer brackets cannot nest past the limit
        raise TooDeep(max_depth)
    return value


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` under the three rules: JSONDecodeError for bad syntax, NotStrictJson for a broken rule."""
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:  # deeper than Python's parser goes, so past any limit here
        raise TooDeep(max_depth) from None
    return _checked(text, value, max_depth)


def raw_decode(text: str, *, max_depth: int = MAX_DEPTH) -> tuple[Any, int]:
    """The JSON value at the start of ``text`` and where it ends, under the same rules as `loads`."""
    try:
        value, end = DECODER.raw_decode(text)
    except RecursionError:
        raise TooDeep(max_depth) from None
    return _checked(text[:end], value, max_depth), end
