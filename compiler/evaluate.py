"""Score a plan on variants: the one evaluation the CLI, the compile loop and the benchmarks share."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sgde.runtime.errors import InputError, NodeFailed, SgdeError
from sgde.runtime.executor import Executor
from sgde.runtime.jsonl import read_json_objects

from .families import Variant
from .scoring import as_number, is_correct


class ItemResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    answer: float
    prediction: Any = Field(None, description="the plan's output (None when it failed)")
    correct: bool
    error: dict[str, Any] | None = Field(None, description="type, message and node of what went wrong")
    seconds: float
    tokens_in: int = 0
    tokens_out: int = 0


class EvalReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(description="plan name")
    plan_hash: str = Field(description="the plan's content hash")
    model: str | None = Field(None, description="student model (None for plans without llm nodes)")
    n: int
    correct: int
    accuracy: float
    errors: dict[str, int] = Field(default_factory=dict, description="failed items by error type")
    seconds_per_item: float
    tokens_in: int = 0
    tokens_out: int = 0
    items: list[ItemResult] = Field(default_factory=list)


def _error_info(error: SgdeError) -> dict[str, Any]:
    """The root cause's type (node_raised, timeout, output_parse_error...) is what a reader acts on."""
    cause = error.cause if isinstance(error, NodeFailed) and isinstance(error.cause, dict) else None
    kind = str(cause.get("type")) if cause and cause.get("type") else error.type_name
    info: dict[str, Any] = {"type": kind, "message": error.message[:500]}
    if error.node is not None:
        info["node"] = error.node
    return info


def evaluate(executor: Executor, variants: Iterable[Variant],
             on_item: Callable[[int, ItemResult], None] | None = None, *, model: str | None = None) -> EvalReport:
    """Run the plan on each variant and score it; a failing item is a result, never an exception."""
    items: list[ItemResult] = []
    for index, variant in enumerate(variants):
        started = time.perf_counter()
        try:
            result = executor.run(dict(variant.input))
            output, error, trace = result.output, result.error, result.trace
        except InputError as exc:  # the variant does not fit the plan's inputs
            output, error, trace = None, exc, []
        seconds = time.perf_counter() - started
        info = _error_info(error) if error is not None else None
        if info is None and as_number(output) is None:
            info = {"type": "non_numeric", "message": f"the plan returned {json.dumps(output)[:200]}"}
        item = ItemResult(id=variant.id, answer=variant.answer, prediction=output,
                          correct=info is None and is_correct(output, variant.answer), error=info,
                          seconds=round(seconds, 4), tokens_in=sum(r.tokens_in for r in trace),
                          tokens_out=sum(r.tokens_out for r in trace))
        items.append(item)
        if on_item is not None:
            on_item(index, item)
    n = len(items)
    errors: dict[str, int] = {}
    for item in items:
        if item.error is not None:
            errors[item.error["type"]] = errors.get(item.error["type"], 0) + 1
    correct = sum(item.correct for item in items)
    return EvalReport(plan=executor.plan.name, plan_hash=executor.plan.content_hash(), model=model, n=n,
                      correct=correct, accuracy=correct / n if n else 0.0, errors=errors,
                      seconds_per_item=round(sum(i.seconds for i in items) / n, 4) if n else 0.0,
                      tokens_in=sum(i.tokens_in for i in items), tokens_out=sum(i.tokens_out for i in items),
                      items=items)


_VARIANT_KEYS = set(Variant.model_fields)


def load_variants(path: str | Path, *, check: Callable[[dict[str, Any]], Any] | None = None) -> list[Variant]:
    """Variants from JSONL (id, input, answer; other keys ignored). InputError names the file, line and field.

    ``check`` is called with each variant's input (e.g. ``Executor.check_inputs``), so a file that does not
    fit the plan fails before anything runs.
    """
    path = Path(path)
    variants: list[Variant] = []
    for lineno, row in read_json_objects(path, field="variants"):
        try:
            variant = Variant.model_validate({k: v for k, v in row.items() if k in _VARIANT_KEYS})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            raise InputError(f"{path}:{lineno}: field {field!r}: {err['msg']}", field=field) from None
        if check is not None:
            try:
                check(dict(variant.input))
            except InputError as exc:
                raise InputError(f"{path}:{lineno}: field 'input.{exc.field}': {exc.message}",
                                 field=f"input.{exc.field}") from None
        variants.append(variant)
    return variants
