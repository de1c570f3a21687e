"""Task families: one GSM-Hard problem turned into a generator of variants with exact answers.

The numbers of the problem become parameters of both its text and its
program, so any number of variants can be drawn; each answer is recomputed by
running the program in the sandbox (the dataset's targets are noisy). Numbers
are rendered in a format drawn per number (plain, commas, words), sentences
that commute are shuffled and a distractor may be added, so a plan cannot
fit one surface form of the problem.
"""

from __future__ import annotations

import ast
import json
import keyword
import math
import random
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sgde.runtime.errors import CompileRefused, SandboxError, SandboxUnavailable
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import SandboxBackend, make_backend

from .errors import FamilyError, TeacherReplyInvalid
from .scoring import ABS_TOLERANCE
from .teachers.base import Teacher, TeacherRequest, TeacherUsage

NumberFormat = Literal["plain", "commas", "words"]
ALL_FORMATS: tuple[NumberFormat, ...] = ("plain", "commas", "words")
#: chance that a variant carries one distractor sentence (when the template has any)
IRRELEVANT_RATE = 0.5
#: sample_family gives up after this many draws per requested variant
MAX_ATTEMPTS_PER_VARIANT = 20
#: draws derive_family makes to prove a family samples
VERIFY_DRAWS = 20
#: ints above this (and decimals whose scaled value passes 2**53) would not survive floats and JSON
MAX_ABS_INT = 10**15
_SCALES = ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million"))
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- models ----------------------------------------------------------------------

#: whole numbers from here up are sometimes drawn round, so the words format applies
ROUND_FROM = 1_000_000
ROUND_RATE = 0.25


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
                if _as_decimal(value, 12) != _as_decimal(value, self.places):
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
            _placeholders(text, where)
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
            if not _IDENT.match(key) or keyword.iskeyword(key):
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


# --- validation ------------------------------------------------------------------

def _placeholders(text: str, where: str) -> list[str]:
    names = _PLACEHOLDER.findall(text)
    for name in names:
        if not _IDENT.match(name):
            raise ValueError(f"{where}: placeholder {{{name}}} must be an identifier in braces")
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        raise ValueError(f"{where}: unbalanced brace (braces are only for placeholders)")
    return names


def check_draft(params: dict[str, ParamSpec], program: str, template: Template) -> None:
    """Rules that tie the parameters, the program and the template together; ValueError 'field: why'."""
    if not params:
        raise ValueError("params: a family needs at least one parameter")
    for name in params:
        if not _IDENT.match(name) or name.startswith("_") or keyword.iskeyword(name):
            # the sandbox refuses names with a leading underscore
            raise ValueError(f"params.{name}: a parameter name must be a Python identifier not starting with _")
        if name in template.names:
            raise ValueError(f"template.names.{name}: also a parameter name")
    known = set(params) | set(template.names)
    used_in_problem: set[str] = set()
    for where, text in template.texts():
        for name in _placeholders(text, where):
            if name not in known:
                raise ValueError(f"template.{where}: placeholder {{{name}}} is neither a parameter nor a name")
            if not where.startswith("irrelevant"):
                used_in_problem.add(name)
    for name in params:
        if name not in used_in_problem:
            raise ValueError(f"params.{name}: does not appear in the sentences or the question")
    for name in template.names:
        if name not in used_in_problem and not any(f"{{{name}}}" in s for s in template.irrelevant):
            raise ValueError(f"template.names.{name}: is never used")
    _check_program(program, set(params))


def _check_program(program: str, params: set[str]) -> None:
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ValueError(f"program: does not parse: {exc}") from None
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "solution"]
    if not funcs:
        raise ValueError("program: defines no top-level function solution(...)")
    args = funcs[-1].args
    named = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    required = named[:len(named) - len(args.defaults) - len(args.kwonlyargs)] + \
        [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    missing = sorted(params - set(named)) if args.kwarg is None else []
    if missing:
        raise ValueError(f"program: solution() does not take the parameters {missing}")
    extra = sorted(set(required) - params)
    if extra:
        raise ValueError(f"program: solution() requires {extra}, which are not parameters")


def _family_error(exc: ValidationError, prefix: str = "") -> FamilyError:
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
        raise _family_error(exc) from None


# --- rendering -------------------------------------------------------------------

def _as_decimal(value: int | float | Decimal, places: int) -> Decimal:
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(value).quantize(Decimal(1).scaleb(-places))


def render_number(value: int | float, fmt: NumberFormat, places: int = 0) -> str:
    """1234567 / 1,234,567 / 1.2 million; words only when exact with <= 2 decimals of the scaled value."""
    number = _as_decimal(value, places)
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
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_original(family: Family) -> str:
    """The text with the original values, plain numbers, first names, no shuffle and no distractor."""
    values = {k: render_number(p.original, "plain", p.places) for k, p in family.params.items()}
    values.update({k: choices[0] for k, choices in family.template.names.items()})
    t = family.template
    return " ".join(_fill(s.strip(), values) for s in [*t.sentences, t.question])


def _render_variant(family: Family, params: dict[str, int | float], rng: random.Random) -> str:
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
        for position, index in zip(group, order):
            sentences[position] = t.sentences[index]
    if t.irrelevant and rng.random() < IRRELEVANT_RATE:
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(t.irrelevant))
    return " ".join(_fill(s.strip(), values) for s in [*sentences, t.question])


# --- running programs ------------------------------------------------------------

_RUNNER = "\n\n\ndef run(inputs):\n    return {{'answer': {call}}}\n"


def _runnable(program: str, call: str) -> str:
    # math without an import: teachers and the dataset's programs use it freely
    return "import math\n\n" + program + _RUNNER.format(call=call)


def _answer(output: dict[str, Any]) -> float | str:
    """The numeric answer, or the reason it is not one."""
    value = output.get("answer")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "non_numeric"
    try:
        number = float(value)
    except OverflowError:
        return "non_finite"
    return number if math.isfinite(number) else "non_finite"


class _Runner:
    """One warm restricted backend under the strict policy for a batch of calls."""

    def __init__(self, backend: SandboxBackend | None, node: str) -> None:
        self.own = backend is None
        self.backend = backend or make_backend("restricted")
        self.policy = load_policy("strict")
        self.node = node

    def check(self, source: str, field: str) -> None:
        try:
            self.backend.check(source, self.policy, node=self.node)
        except CompileRefused as exc:
            raise FamilyError(f"the sandbox refuses the program: {exc.message}", field=field) from None

    def answer(self, source: str, inputs: dict[str, Any]) -> float | str:
        """The answer, or the type of what went wrong (a dropped draw, not an error)."""
        try:
            result = self.backend.run(source, inputs, self.policy, node=self.node, fixed=True)
        except SandboxUnavailable:
            raise
        except SandboxError as exc:
            return exc.type_name
        return _answer(result.output)

    def close(self) -> None:
        if self.own:
            self.backend.close()


# --- sampling --------------------------------------------------------------------

class SampleResult(_Model):
    variants: list[Variant]
    attempts: int = Field(description="draws made, kept or not")
    dropped: dict[str, int] = Field(default_factory=dict, description="dropped draws by reason")


def sample_family(family: Family, n: int, seed: int, *, backend: SandboxBackend | None = None) -> list[Variant]:
    """n variants, deterministic for (family, n, seed)."""
    return draw_variants(family, n, seed, backend=backend).variants


def draw_variants(family: Family, n: int, seed: int, *, backend: SandboxBackend | None = None) -> SampleResult:
    """sample_family with the bookkeeping: how many draws were made and why some were dropped."""
    if n < 0:
        raise FamilyError(f"n must be >= 0, got {n}", field="n")
    rng = random.Random(seed)
    limit = MAX_ATTEMPTS_PER_VARIANT * n
    runner = _Runner(backend, node=family.id)
    source = _runnable(family.program, "solution(**inputs)")
    result = SampleResult(variants=[], attempts=0)
    try:
        runner.check(source, "program")
        while len(result.variants) < n:
            if result.attempts >= limit:
                raise FamilyError(f"only {len(result.variants)} of {n} variants after {limit} draws (max_attempts "
                                  f"= {MAX_ATTEMPTS_PER_VARIANT} x n); dropped: {result.dropped}",
                                  field="params", limit="max_attempts", value=result.dropped)
            result.attempts += 1
            params = {name: spec.draw(rng) for name, spec in family.params.items()}
            text = _render_variant(family, params, rng)  # drawn even if the answer is dropped: same rng path
            answer = runner.answer(source, params)
            if isinstance(answer, str):
                result.dropped[answer] = result.dropped.get(answer, 0) + 1
                continue
            result.variants.append(Variant(id=f"{family.id}-s{seed}-{len(result.variants)}",
                                           input={"question": text}, answer=answer, params=params))
    finally:
        runner.close()
    return result


# --- deriving --------------------------------------------------------------------

DERIVE_INSTRUCTIONS = """\
Turn one math word problem into a task family: a generator of variants of the same problem with different numbers.
The payload holds the problem: `input` is the question, `code` a Python program `solution()` that computes its
answer (its docstring is an older version of the question with smaller numbers: ignore the docstring's numbers).

Reply with one JSON object with `params`, `program` and `template`:

1. params: every number of the question that the answer depends on becomes a parameter, named as a Python
   identifier (e.g. family_size). Give each a domain: type int or decimal (decimal needs places, 1..6), min and
   max (inclusive) and `original`, the value in the question. Domains must be sensible for the story (counts >= 1,
   percentages 0..100, a part no larger than its whole only if the program enforces it otherwise) and must include
   the original value. Use multiple_of for money in whole hundreds and the like. Keep numbers that are part of the
   language (a week = 7 days, a dozen, "half") fixed in the text, not parameters.
2. program: Python source defining `def solution(<every param>)` that returns the answer as a number. Compute it
   exactly as the original code does, step by step, with the parameters in place of the numbers, so that
   solution(**originals) equals the original code's result. No imports except math; no print, no input.
3. template: the question split into `sentences` (the statement, one sentence per item) and `question` (the final
   question sentence). Write every parameter as {name}; write people's names as placeholders too ({name1}) and
   list choices in `names`, the original name first. Rendered with the original values as plain numbers and the
   first names, the template must reproduce the original question word for word (a number written in words,
   "three", may become a parameter written in digits).
   shuffle_groups: lists of sentence indices (0-based) whose order does not change the meaning; only sentences
   that are independent facts, never a sentence that refers back ("she", "the rest", "then"). Empty if none.
   irrelevant: one or two distractor sentences that fit the story but change no answer (they may use
   placeholders; never contradict the problem). number_formats: leave out unless a format would be wrong.
"""


def derive_family(record: dict[str, Any], teacher: Teacher, *, dataset_name: str,
                  backend: SandboxBackend | None = None) -> Family:
    """Ask the teacher for a family of one record, then verify it against the record's own program."""
    for key in ("id", "input", "code"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise FamilyError(f"the record has no {key!r} text", field=key)
    request = TeacherRequest(kind="derive_family", instructions=DERIVE_INSTRUCTIONS,
                             response_schema=FamilyDraft.model_json_schema(),
                             payload={"problem": {k: record[k] for k in ("id", "input", "code")}})
    reply = teacher.ask(request)
    try:
        draft = FamilyDraft.model_validate(reply.data)
    except ValidationError as exc:
        error = _family_error(exc)
        raise TeacherReplyInvalid(f"the teacher's family draft is invalid: {error.message}",
                                  field=error.field) from None
    family_id = re.sub(r"[^A-Za-z0-9_.-]", "-", record["id"]).strip("-._")[:128] or "family"
    try:
        family = Family(id=family_id, source=Source(dataset=dataset_name, record_id=record["id"],
                                                    question=record["input"], program=record["code"]),
                        params=draft.params, program=draft.program, template=draft.template,
                        derived_by=DerivedBy(teacher=teacher.spec, usage=reply.usage))
    except ValidationError as exc:
        raise _family_error(exc) from None
    verify_family(family, backend=backend)
    return family


def verify_family(family: Family, *, backend: SandboxBackend | None = None) -> None:
    """The family reproduces its source: same answer on the original values, same numbers in the text, and it samples."""
    runner = _Runner(backend, node=family.id)
    try:
        original = _run_once(runner, _runnable(family.source.program, "solution()"), {}, "source.program")
        originals = {k: p.original for k, p in family.params.items()}
        ours = _run_once(runner, _runnable(family.program, "solution(**inputs)"), originals, "program")
        if not abs(ours - original) < ABS_TOLERANCE:
            raise FamilyError(f"solution(**originals) = {ours!r} but the record's program gives {original!r}; the "
                              "program must follow the record's code (if the record's code uses other numbers than "
                              "its question, the record is noisy and this family cannot be verified)",
                              field="program", value={"family": ours, "record": original})
        _check_text(family)
        try:
            draw_variants(family, VERIFY_DRAWS, seed=0, backend=runner.backend)
        except FamilyError as exc:
            exc.message = f"the family does not sample: {exc.message}"
            raise
    finally:
        runner.close()


def _run_once(runner: _Runner, source: str, inputs: dict[str, Any], field: str) -> float:
    runner.check(source, field)
    answer = runner.answer(source, inputs)
    if isinstance(answer, str):
        raise FamilyError(f"running {field} on the original values failed: {answer}", field=field)
    return answer


_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _numbers(text: str) -> set[Decimal]:
    return {Decimal(m.replace(",", "")).normalize() for m in _NUMBER.findall(text)}


def _check_text(family: Family) -> None:
    text = render_original(family)
    for name, spec in family.params.items():
        shown = render_number(spec.original, "plain", spec.places)
        if not re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d])", text):
            raise FamilyError(f"the template rendered with the original values does not show {name} = {shown}",
                              field=f"params.{name}.original")
    lost = sorted(_numbers(family.source.question) - _numbers(text))
    if lost:
        raise FamilyError(f"the question's numbers {[format(n, 'f') for n in lost]} are missing from the template "
                          f"rendered with the original values: {text!r}", field="template")


# --- files -----------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    """Programs and questions as literal blocks, so a diff reads like the code (as plan files do)."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(ch in value for ch in ("\x85", "\u2028", "\u2029")):  # PyYAML would read these back changed
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str_representer)


def dumps_family(family: Family) -> str:
    doc = family.model_dump(mode="json", exclude_none=True)
    for spec in doc["params"].values():
        if spec["type"] == "int":
            del spec["places"]  # always 0: noise for a reviewer
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def save_family(family: Family, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dumps_family(family), encoding="utf-8")
    tmp.replace(path)


def loads_family(text: str) -> Family:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FamilyError(f"not valid YAML: {exc}") from None
    return parse_family(data)


def load_family(path: str | Path) -> Family:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FamilyError(f"cannot read family file {path}: {exc}") from None
    try:
        return loads_family(text) if path.suffix != ".json" else parse_family(json.loads(text))
    except json.JSONDecodeError as exc:
        raise FamilyError(f"{path}: not valid JSON: {exc}") from None
    except FamilyError as exc:
        exc.message = f"{path}: {exc.message}"
        raise
