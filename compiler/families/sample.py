"""Drawing variants: parameters from their domains, the text rendered, the answer run in the sandbox."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field

from sgde.runtime.sandbox import SandboxBackend

from ..errors import FamilyError
from .model import Family, Variant
from .render import render_variant
from .runner import Runner, runnable

#: sample_family gives up after this many draws per requested variant
MAX_ATTEMPTS_PER_VARIANT = 20


class SampleResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    runner = Runner(backend, node=family.id)
    source = runnable(family.program, "solution(**inputs)")
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
            text = render_variant(family, params, rng)  # drawn even if the answer is dropped: same rng path
            answer = runner.answer(source, params)
            if isinstance(answer, str):
                result.dropped[answer] = result.dropped.get(answer, 0) + 1
                continue
            result.variants.append(Variant(id=f"{family.id}-s{seed}-{len(result.variants)}",
                                           input={"question": text}, answer=answer, params=params))
    finally:
        runner.close()
    return result
