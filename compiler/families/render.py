"""A family's text: numbers in a drawn format, names, shuffled sentences, an optional distractor."""

from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation

from .model import Family, NumberFormat, as_decimal
from .rules import PLACEHOLDER

#: chance that a variant carries one distractor sentence (when the template has any)
IRRELEVANT_RATE = 0.5
_SCALES = ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million"))


def render_number(value: int | float, fmt: NumberFormat, places: int = 0) -> str:
    """1234567 / 1,234,567 / 1.2 million; words only when exact with <= 2 decimals of the scaled value."""
    number = as_decimal(value, places)
    if fmt == "words" and abs(number) >= _SCALES[-1][0]:
        scale, word = next((s, w) for s, w in _SCALES if abs(number) >= s)
        scaled = number / scale
        if scaled == scaled.quantize(Decimal("0.01")):
            return f"{_trim(scaled)} {word}"
    return format(number, ",f" if fmt in ("commas", "words") else "f")


def _trim(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_number(text: str) -> Decimal:
    """Inverse of render_number (for tests and for people checking a variant by hand)."""
    words = {w: s for s, w in _SCALES}
    body, _, word = text.strip().partition(" ")
    try:
        number = Decimal(body.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if word:
        if word not in words:
            raise ValueError(f"unknown scale word {word!r}")
        number *= words[word]
    return number


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_original(family: Family) -> str:
    """The text with the original values, plain numbers, first names, no shuffle and no distractor."""
    values = {k: render_number(p.original, "plain", p.places) for k, p in family.params.items()}
    values.update({k: choices[0] for k, choices in family.template.names.items()})
    t = family.template
    return " ".join(_fill(s.strip(), values) for s in [*t.sentences, t.question])


def render_variant(family: Family, params: dict[str, int | float], rng: random.Random) -> str:
    t = family.template
    values = {k: render_number(params[k], rng.choice(t.number_formats), spec.places)
              for k, spec in family.params.items()}
    taken: set[str] = set()
    for key, choices in t.names.items():
        fresh = [c for c in choices if c not in taken] or choices  # two placeholders, two people
        values[key] = rng.choice(fresh)
        taken.add(values[key])
    sentences = list(t.sentences)
    for group in t.shuffle_groups:
        order = list(group)
        rng.shuffle(order)
        for position, index in zip(group, order, strict=False):
            sentences[position] = t.sentences[index]
    if t.irrelevant and rng.random() < IRRELEVANT_RATE:
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(t.irrelevant))
    return " ".join(_fill(s.strip(), values) for s in [*sentences, t.question])
