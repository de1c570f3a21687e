"""JSON as sgde reads it wherever a value comes in: input files and ``-i``, plans, a student's JSON output,
teacher replies and transcripts, a sandbox's replies; and the same rules for values a caller hands over.

Four rules on top of the grammar, because Python's ``json`` is laxer than the standard and than sgde:

- **nested at most MAX_DEPTH levels.** ``json`` recurses once per level: a line of 1,000 ``[`` ended
  ``sgde run --input-file`` in a RecursionError traceback from inside the parser, and a value just under
  Python's limit got through only to break the next walk over it (a schema check, the trace, a request);
- **numbers are finite**: no ``NaN``/``Infinity`` (json accepts them, no other JSON reader does) and no float
  that overflows to infinity (``1e999``);
- **integers have at most MAX_INT_DIGITS digits**, Python's own limit, which otherwise surfaced as a bare
  ValueError from inside the scanner;
- **strings are text**: no lone surrogate (``"\\ud800"`` is valid JSON syntax but no character), which
  crashed ``sgde validate`` when the plan was hashed and failed a student's prompt as a "sampling" error.

What breaks one is a `NotStrictJson` (a ValueError) saying which rule and, in ``limit``, which limit; bad
syntax stays a ``json.JSONDecodeError``. YAML documents get the depth bound in `yaml_load` as they are read,
and the rest when `problem` looks at what they decoded to.
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
_INT_CEILING = 10**MAX_INT_DIGITS  # the least integer with more digits (str() of it would raise)


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


def problem(value: Any, max_depth: int = MAX_DEPTH, *, lone_surrogates: bool = False) -> NotStrictJson | None:
    """What in ``value`` breaks a rule (the first thing found), or None. Iterative, and it stops at the first
    level past ``max_depth``, so a cyclic value is too deep rather than endless. ``lone_surrogates``: let
    them through (the sandbox protocol, which carries any Python string both ways as escaped ASCII)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            if not lone_surrogates and not item.isascii() and not _is_text(item):
                return NotStrictJson(f"a string with a lone surrogate is not text: {item[:60]!r}")
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if abs(item) >= _INT_CEILING:
                return NotStrictJson(f"an integer of more than {MAX_INT_DIGITS} digits (the limit)", "int_digits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return NotStrictJson(f"{item} is not a JSON number")
        elif isinstance(item, (list, tuple, dict)):
            if level > max_depth:
                return TooDeep(max_depth)
            if isinstance(item, dict):
                stack.extend((key, level) for key in item)
                stack.extend((child, level + 1) for child in item.values())
            else:
                stack.extend((child, level + 1) for child in item)
        elif item is not None:  # YAML's dates, sets and bytes, a caller's objects: nothing JSON can write
            return NotStrictJson(f"a {type(item).__name__} is not a JSON value: {str(item)[:60]!r}")
    return None


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape_lone_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate in its strings (keys too) written out as its escape, ``\\ud800``.

    The sandbox protocol lets any Python string through (a node may return one), but a teacher request is
    UTF-8 text: unescaped, such a string ended a compile in a UnicodeEncodeError where the request was written
    (a command teacher's stdin, a transcript). The escape keeps what the node returned readable and loses
    nothing but the difference between a surrogate and its spelling.
    """
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {escape_lone_surrogates(key): escape_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_lone_surrogates(item) for item in value]
    return value


def escape_text(text: str) -> str:
    """``text`` with each lone surrogate written out as its escape (see `escape_lone_surrogates`)."""
    return text if text.isascii() or _is_text(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


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


def _checked(text: str, value: Any, max_depth: int, lone_surrogates: bool) -> Any:
    # the walk only where it can find something: enough brackets to nest past the limit, or a \u escape or a
    # character that could be a lone surrogate (numbers were checked by the hooks as they were read)
    worth_it = text.count("[") + text.count("{") > max_depth or not lone_surrogates and (
        "\\u" in text or not _is_text(text))
    broken = problem(value, max_depth, lone_surrogates=lone_surrogates) if worth_it else None
    if broken is not None:
        raise broken
    return value


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, lone_surrogates: bool = False) -> Any:
    """``json.loads`` under the rules: JSONDecodeError for bad syntax, NotStrictJson for a broken rule
    (bytes must be UTF-8: a UnicodeDecodeError, also a ValueError, if not)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        value = DECODER.decode(text)
    except RecursionError:  # deeper than Python's parser goes, so past any limit here
        raise TooDeep(max_depth) from None
    return _checked(text, value, max_depth, lone_surrogates)


def raw_decode(text: str, *, max_depth: int = MAX_DEPTH) -> tuple[Any, int]:
    """The JSON value at the start of ``text`` and where it ends, under the same rules as `loads`."""
    try:
        value, end = DECODER.raw_decode(text)
    except RecursionError:
        raise TooDeep(max_depth) from None
    return _checked(text[:end], value, max_depth, False), end
