"""How deep a value may nest wherever one enters sgde: inputs, plan and policy files, teacher replies, student output.

Python's json and PyYAML's composer recurse once per level. A line of 1,000 ``[`` made ``sgde run
--input-file`` end in a RecursionError traceback from inside the parser, and a value just under Python's
limit got through only to break the next walk over it (a schema check, the trace, a sandbox request).
One bound for every door, far above what a plan or an input needs and far below Python's stack, turns
both into an error that names the file, the line or the input.
"""

from __future__ import annotations

import json
from typing import Any

#: levels of lists and objects a value may have; the sandbox runner's own limit on results, so any value a
#: node reads could also have been a node's result
MAX_DEPTH = 64


class TooDeep(ValueError):
    """A value nests more than ``limit`` levels of lists and objects."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        super().__init__(f"nested more than {limit} levels deep (the limit)")
        self.limit = limit


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


def loads(text: str | bytes, *, limit: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads``; TooDeep (a ValueError) for a value nested past ``limit``, however deep."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:  # deeper than Python's parser goes, so deeper than any limit here
        raise TooDeep(limit) from None
    brackets = text.count("[") + text.count("{") if isinstance(text, str) else text.count(b"[") + text.count(b"{")
    if brackets > limit and too_deep(value, limit):  # fewer brackets than the limit cannot nest past it
        raise TooDeep(limit)
    return value
