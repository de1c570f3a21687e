"""Prompt templates render in one pass: a value's own braces are text, never placeholders (hypothesis against a
reference renderer that scans the template character by character)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sgde.runtime.executor import render_template

NAMES = ("a", "b", "c")


def reference(template: str, values: dict) -> str:
    out, i = [], 0
    while i < len(template):
        pair = template[i:i + 2]
        if pair in ("{{", "}}"):
            out.append(pair[0])
            i += 2
        elif template[i] == "{":
            end = template.index("}", i)
            value = values[template[i + 1:end]]
            out.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            i = end + 1
        else:
            out.append(template[i])
            i += 1
    return "".join(out)


literal = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=8)
piece = st.one_of(literal, st.sampled_from(["{{", "}}"]), st.sampled_from([f"{{{n}}}" for n in NAMES]))
# values full of what could be mistaken for placeholders: refs of refs, doubled braces, the old sentinels
tricky = st.one_of(st.text(max_size=12), st.sampled_from(["{a}", "{b}", "{{", "}}", "{c}{a}", "\0L", "\0R", "{"]),
                   st.integers(), st.lists(st.integers(), max_size=3), st.dictionaries(st.sampled_from("xy"),
                                                                                      st.text(max_size=4)))


@settings(max_examples=300, deadline=None)
@given(st.lists(piece, max_size=12).map("".join), st.fixed_dictionaries({n: tricky for n in NAMES}))
def test_one_pass_rendering_matches_the_reference(template, values):
    assert render_template(template, values, "n") == reference(template, values)


def test_a_value_that_looks_like_a_placeholder_stays_text():
    assert render_template("A: {a} B: {b}", {"a": "{b}", "b": "SECRET"}, "n") == "A: {b} B: SECRET"
    assert render_template("{{a}} {a}", {"a": "\0L}}"}, "n") == "{a} \0L}}"
