"""YAML as sgde reads it (plans, policies, tasks, families): safe types only, and no aliases.

An alias (``*name``) repeats an anchored value without copying it, so nine lines of aliases of aliases make
a document of 43 million values the moment anything walks it (the schema check, the content hash): a plan
file of 1 KB hung ``sgde validate``. sgde writes no aliases, and a reviewer should see every value where it
is used, so a document with one is refused, at the line of the alias.
"""

from __future__ import annotations

from typing import Any

import yaml


class _NoAliasLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{event.anchor}) are not allowed: write the value out where it is used",
                event.start_mark)
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` without aliases; raises yaml.YAMLError (with the line) like it."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  (a SafeLoader subclass)
