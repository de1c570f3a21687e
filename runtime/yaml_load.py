"""YAML as sgde reads it (plans, policies, tasks, families): safe types only, no aliases, bounded nesting.

An alias (``*name``) repeats an anchored value without copying it, so nine lines of aliases of aliases make
a document of 43 million values the moment anything walks it (the schema check, the content hash): a plan
file of 1 KB hung ``sgde validate``. sgde writes no aliases, and a reviewer should see every value where it
is used, so a document with one is refused, at the line of the alias. A document nested deeper than
`strict_json.MAX_DEPTH` is refused at the line where it goes past it (PyYAML's composer recurses once per level),
and one holding what JSON cannot (a date, ``.nan``, a lone surrogate) is refused too: plans are hashed and
sent on as JSON, where those failed with a traceback.
"""

from __future__ import annotations

from typing import Any

import yaml

from .strict_json import MAX_DEPTH, problem


class _NoAliasLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    depth = 0  # collections open around the node being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed: write the value out where it is used",
                event.start_mark)
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"lists and mappings nest more than {MAX_DEPTH} levels deep here (the limit)",
                self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` without aliases, of values JSON can hold (`strict_json.problem`: no ``.nan``, no dates,
    no lone surrogates); raises yaml.YAMLError (with the line where PyYAML knows it) like it."""
    value = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  (a SafeLoader subclass)
    broken = problem(value)
    if broken is not None:
        raise yaml.YAMLError(f"{broken} (sgde reads YAML documents as JSON values)")
    return value


def compose_yaml(text: str) -> Any:
    """The node tree (with line marks) of a document `load_yaml` would read, under the same limits."""
    return yaml.compose(text, Loader=_NoAliasLoader)
