"""A family's data: parameter domains, the text template, the program, and the variants drawn from it.

Each model checks itself (pydantic field and cross-field rules; the rules that
tie parameters, program and template together are in `rules`), and
`parse_family` turns the first validation error into a `FamilyError` whose
field is the full path (`params.x.original`).
"""

from __future__ import annotations

import keyword
import math
import random
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import FamilyError
from ..teachers.base import TeacherUsage
from .rules import IDENT, check_draft, placeholders

NumberFormat = Literal["plain", "commas", "words"]
ALL_FORMATS: tuple[NumberFormat, ...] = ("plain", "commas", "words")
#: ints above this (and decimals whose scaled value passes 2**53) would not survive floats and JSON
MAX_ABS_INT = 10**15
#: whole numbers from here up are sometimes drawn round, so the words format applies
ROUND_FROM = 1_000_000
ROUND_RATE = 0.25


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParamSpec(_Model):
    """The domain of one number of the problem."""

    type: Literal["int", "decimal"] = Field(description="int: whole numbers; decimal: fixed number of decimal places")
    min: int | float = Field(description="smallest value a variant may draw (inclusive)")
    max: int | float = Field(description="largest value a variant may draw (inclusive)")
    places: int = Field(0, ge=0, le=6, description="decimal places (decimal only, 1..6; 0 for int)")
    multiple_of: int | None = Field(None, ge=1, description="int only: draw only multiples of this")
    original: int | float = Field(description="the value in the source problem; must lie in [min, max]")

    @field_validator("min", "max", "original", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML's yes/no would otherwise pass as 1/0
            raise ValueError("must be a number, not a boolean")
        return value

    @model_validator(mode="after")
    def _check(self) -> "ParamSpec":
        for name in ("min", "max", "original"):
            value = getattr(self, name)
            if (isinstance(value, float) and not math.isfinite(value)) or abs(value) * 10 ** self.places > MAX_ABS_INT:
                raise ValueError(f"{name}: {value} is out of range: values beyond {MAX_ABS_INT:.0e} (after scaling "
                                 "by the decimal places) lose precision as floats")
        if self.type == "int":
            for name in ("min", "max", "original"):
                value = getattr(self, name)
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(f"{name}: an int parameter needs a whole number, got {value}")
                setattr(self, name, int(value))  # 3.0 -> 3, so load(save(f)) == f
            if self.places:
                raise ValueError("places: only decimal parameters have decimal places")
        else:
            if self.multiple_of is not None:
                raise ValueError("multiple_of: only int parameters take multiple_of")
            if not 1 <= self.places <= 6:
                raise ValueError("places: a decimal parameter needs 1..6 decimal places (use type int for 0)")
            for name in ("min", "max", "original"):
                value = float(getattr(self, name))
                if as_decimal(value, 12) != as_decimal(value, self.places):
                    raise ValueError(f"{name}: {value} has more than {self.places} decimal places")
                setattr(self, name, value)
        if self.min > self.max:
            raise ValueError(f"min: {self.min} is larger than max {self.max}")
        if not self.min <= self.original <= self.max:
            raise ValueError(f"original: {self.original} is outside [min, max] = [{self.min}, {self.max}]")
        if self.multiple_of is not None:
            if self.original % self.multiple_of:
                raise ValueError(f"original: {self.original} is not a multiple of multiple_of {self.multiple_of}")
        return self

    def draw(self, rng: random.Random) -> int | float:
        """Uniform over the domain's grid (integers, multiples, or steps of 10**-places).

        A large whole number is drawn round (two significant digits) one time in four, so that
        "4.5 million" appears among the variants' formats and no parser can assume digits."""
        if self.type == "int":
            step = self.multiple_of or 1
            value = rng.randint(-(-self.min // step), self.max // step) * step
            if self.multiple_of is None and abs(value) >= ROUND_FROM and rng.random() < ROUND_RATE:
                unit = 10 ** (len(str(abs(value))) - 2)
                rounded = round(value / unit) * unit
                if self.min <= rounded <= self.max:
                    value = rounded
            return value
        scale = Decimal(10) ** self.places
        low = int((Decimal(repr(self.min)) * scale).to_integral_value(ROUND_CEILING))
        high = int((Decimal(repr(self.max)) * scale).to_integral_value(ROUND_FLOOR))
        return float(Decimal(rng.randint(low, high)) / scale)


class Template(_Model):
    """The problem text: sentences with {param} and {name} placeholders, then the question."""

    sentences: list[str] = Field(description="the problem statement, one sentence per item, without the question")
    shuffle_groups: list[list[int]] = Field(
        default_factory=list, description="groups of sentence indices (0-based) whose order does not matter; "
        "a variant permutes each group among its own positions")
    question: str = Field(description="the final question sentence; may have placeholders")
    irrelevant: list[str] = Field(default_factory=list, description="distractor sentences that change no answer; "
                                  "a variant may insert one before the question")
    names: dict[str, list[str]] = Field(default_factory=dict, description="name placeholder -> choices; the first "
                                        "choice is the name in the source problem")
    number_formats: list[NumberFormat] = Field(
        default_factory=lambda: list(ALL_FORMATS), min_length=1,
        description="formats numbers are drawn from: plain 1234567, commas 1,234,567, words 1.2 million")

    @model_validator(mode="after")
    def _check(self) -> "Template":
        for where, text in self.texts():
            placeholders(text, where)
        seen: set[int] = set()
        for g, group in enumerate(self.shuffle_groups):
            if len(group) < 2:
                raise ValueError(f"shuffle_groups.{g}: a group needs at least two sentences")
            for index in group:
                if not 0 <= index < len(self.sentences):
                    raise ValueError(f"shuffle_groups.{g}: index {index} is out of range (there are "
                                     f"{len(self.sentences)} sentences)")
                if index in seen:
                    raise ValueError(f"shuffle_groups.{g}: sentence {index} is in more than one place")
                seen.add(index)
        for key, choices in self.names.items():
            if not IDENT.match(key) or keyword.iskeyword(key):
                raise ValueError(f"names.{key}: a placeholder must be an identifier")
            if not choices or any(not c.strip() or "{" in c or "}" in c for c in choices):
                raise ValueError(f"names.{key}: needs at least one non-empty choice without braces")
        if len(set(self.number_formats)) != len(self.number_formats):
            raise ValueError("number_formats: lists a format twice")
        return self

    def texts(self) -> list[tuple[str, str]]:
        """(field path, text) of every piece of text, for validation messages."""
        return ([(f"sentences.{i}", s) for i, s in enumerate(self.sentences)] + [("question", self.question)]
                + [(f"irrelevant.{i}", s) for i, s in enumerate(self.irrelevant)])


class FamilyDraft(_Model):
    """What a teacher writes when deriving a family from a problem."""

    params: dict[str, ParamSpec] = Field(description="parameter name (a Python identifier) -> its domain")
    program: str = Field(description="Python source defining solution(**params) that returns the answer as a "
                         "number; math may be used without importing it, nothing else may be imported")
    template: Template

    @model_validator(mode="after")
    def _check(self) -> "FamilyDraft":
        check_draft(self.params, self.program, self.template)
        return self


class Source(_Model):
    dataset: str = Field(description="dataset file name, e.g. gsmhard-dev.jsonl")
    record_id: str = Field(description="id of the record the family was derived from")
    question: str = Field(description="the record's question, verbatim")
    program: str = Field(description="the record's PAL program, verbatim")


class DerivedBy(_Model):
    teacher: str = Field(description="teacher spec that wrote the draft")
    usage: TeacherUsage = Field(default_factory=TeacherUsage, description="tokens, USD and seconds of the derivation")


class Family(_Model):
    """One problem as a generator: parameter domains, the program computing the answer, the text template."""

    sgde_family: Literal[1] = Field(1, description="family format version")
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", description="family id, used in variant ids")
    source: Source
    params: dict[str, ParamSpec] = Field(description="parameter name -> its domain")
    program: str = Field(description="Python source defining solution(**params) returning the answer as a number")
    template: Template
    derived_by: DerivedBy | None = Field(None, description="who derived the family (absent when hand-written)")

    @model_validator(mode="after")
    def _check(self) -> "Family":
        check_draft(self.params, self.program, self.template)
        return self


class Variant(_Model):
    """One drawn problem: the plan input and the answer its program computed."""

    id: str
    input: dict[str, Any] = Field(description='plan inputs; a family writes {"question": text}')
    answer: float
    params: dict[str, int | float] = Field(default_factory=dict)


def family_error(exc: ValidationError, prefix: str = "") -> FamilyError:
    """The first pydantic error as a FamilyError whose field is the full path ('params.x.original')."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    message = err["msg"].removeprefix("Value error, ")
    named = re.match(r"^([A-Za-z_][A-Za-z0-9_.]*): ", message)
    if named:
        loc.append(named.group(1))
        message = message[named.end():]
    field = ".".join(p for p in [prefix, *loc] if p) or None
    return FamilyError(message, field=field)


def parse_family(data: Any) -> Family:
    if not isinstance(data, dict):
        raise FamilyError("a family must be a mapping at the top level")
    try:
        return Family.model_validate(data)
    except ValidationError as exc:
        raise family_error(exc) from None


def as_decimal(value: int | float | Decimal, places: int) -> Decimal:
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(value).quantize(Decimal(1).scaleb(-places))
