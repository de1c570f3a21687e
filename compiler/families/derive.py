"""Deriving a family: the teacher's prompt, its draft, and the checks against the source record."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from sgde.runtime.sandbox import SandboxBackend

from ..errors import FamilyError, TeacherReplyInvalid
from ..scoring import ABS_TOLERANCE
from ..teachers.base import Teacher, TeacherRequest
from .model import DerivedBy, Family, FamilyDraft, Source, family_error
from .render import render_number, render_original
from .runner import Runner, runnable
from .sample import draw_variants

#: draws derive_family makes to prove a family samples
VERIFY_DRAWS = 20

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
        error = family_error(exc)
        raise TeacherReplyInvalid(f"the teacher's family draft is invalid: {error.message}",
                                  field=error.field) from None
    family_id = re.sub(r"[^A-Za-z0-9_.-]", "-", record["id"]).strip("-._")[:128] or "family"
    try:
        family = Family(id=family_id, source=Source(dataset=dataset_name, record_id=record["id"],
                                                    question=record["input"], program=record["code"]),
                        params=draft.params, program=draft.program, template=draft.template,
                        derived_by=DerivedBy(teacher=teacher.spec, usage=reply.usage))
    except ValidationError as exc:
        raise family_error(exc) from None
    verify_family(family, backend=backend)
    return family


def verify_family(family: Family, *, backend: SandboxBackend | None = None) -> None:
    """The family reproduces its source: same answer on the original values, same numbers in the text, and it
    samples."""
    runner = Runner(backend, node=family.id)
    try:
        original = _run_once(runner, runnable(family.source.program, "solution()"), {}, "source.program")
        originals = {k: p.original for k, p in family.params.items()}
        ours = _run_once(runner, runnable(family.program, "solution(**inputs)"), originals, "program")
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


def _run_once(runner: Runner, source: str, inputs: dict[str, Any], field: str) -> float:
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
