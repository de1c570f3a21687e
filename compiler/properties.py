"""Property tests of generated code: hypothesis draws inputs from the teacher's spec,
the code runs in the sandbox, and the invariants — also teacher-written, so also
sandboxed — must hold for every draw; fixed examples must give their outputs.

Draws are derandomized, so the same code and spec pass or fail the same way
on every machine: a compile stays reproducible.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sgde.runtime.errors import SandboxError
from sgde.runtime.plan import (
    ChoiceStrategy,
    IntegerStrategy,
    ListStrategy,
    NumberStrategy,
    ObjectStrategy,
    Properties,
    TemplateStrategy,
    TextStrategy,
)
from sgde.runtime.policy import Policy
from sgde.runtime.sandbox import SandboxBackend

from .audit import audit_expression
from .errors import CodeRejected

_TOLERANCE = 1e-3


def to_strategy(spec: Any) -> st.SearchStrategy:
    if isinstance(spec, IntegerStrategy):
        return st.integers(min_value=spec.min, max_value=spec.max)
    if isinstance(spec, NumberStrategy):
        numbers = st.floats(min_value=spec.min, max_value=spec.max, allow_nan=False, allow_infinity=False)
        return numbers.map(lambda x: round(x, spec.places)) if spec.places is not None else numbers
    if isinstance(spec, TextStrategy):
        if spec.pattern is not None:
            return st.from_regex(spec.pattern, fullmatch=True)
        alphabet = st.sampled_from(spec.alphabet) if spec.alphabet else st.characters(codec="utf-8")
        return st.text(alphabet=alphabet, min_size=spec.min_size, max_size=spec.max_size)
    if isinstance(spec, ChoiceStrategy):
        return st.sampled_from(list(spec.values))
    if isinstance(spec, TemplateStrategy):
        slots = st.fixed_dictionaries({name: to_strategy(s) for name, s in spec.slots.items()})
        return slots.map(lambda values: _fill(spec.template, values))
    if isinstance(spec, ObjectStrategy):
        return st.fixed_dictionaries({name: to_strategy(s) for name, s in spec.fields.items()})
    if isinstance(spec, ListStrategy):
        return st.lists(to_strategy(spec.items), min_size=spec.min_size, max_size=spec.max_size)
    raise TypeError(f"unknown strategy {spec!r}")


def _fill(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


def invariant_program(invariants: Sequence[str]) -> str:
    """The sandboxed program that evaluates invariants: ``run({'inputs': ..., 'output': ...})`` returns
    ``{'holds': [bool, ...]}``, one verdict per invariant, in order (the expressions are teacher-written
    code too, so they run in the sandbox, never on the host)."""
    checks = ",\n        ".join(f"bool({expr})" for expr in invariants)
    return ("def run(payload):\n    inputs = payload['inputs']\n    output = payload['output']\n"
            f"    return {{'holds': [\n        {checks},\n    ]}}\n")


def matches(expected: Any, got: Any) -> bool:
    """An example's expected field against what the code returned: numbers within 1e-3, the rest equal."""
    if isinstance(expected, (int, float)) and not isinstance(expected, bool) \
            and isinstance(got, (int, float)) and not isinstance(got, bool):
        return math.isfinite(got) and abs(got - expected) < _TOLERANCE
    return expected == got


def check_properties(source: str, properties: Properties, *, reads: list[str], backend: SandboxBackend,
                     policy: Policy, node: str) -> int:
    """Run the examples and the hypothesis draws; return the number of draws, or raise CodeRejected."""
    missing = sorted(set(reads) - set(properties.inputs))
    extra = sorted(set(properties.inputs) - set(reads))
    if missing or extra:
        raise CodeRejected(f"properties.inputs must give one strategy per read {sorted(reads)} "
                           f"(missing {missing}, extra {extra})", node=node, field="properties.inputs")
    for expression in properties.invariants:
        audit_expression(expression, node=node)
    invariants = invariant_program(properties.invariants) if properties.invariants else None

    def call(inputs: dict[str, Any]) -> dict[str, Any]:
        try:
            return backend.run(source, inputs, policy, node=node, fixed=True).output
        except SandboxError as exc:
            limit = f" (limit {exc.limit})" if exc.limit else ""
            raise CodeRejected(f"on inputs {_short(inputs)} the code failed: {exc.type_name}{limit}: {exc.message}",
                               node=node, field="source") from None

    for number, example in enumerate(properties.examples, 1):
        output = call(example.inputs)
        wrong = {k: output.get(k) for k, v in example.output.items() if not matches(v, output.get(k))}
        if wrong:
            raise CodeRejected(f"example {number}: on inputs {_short(example.inputs)} expected "
                               f"{_short(example.output)}, got {_short(wrong)}", node=node,
                               field="properties.examples")

    failure: list[CodeRejected] = []
    draws = 0

    @settings(max_examples=properties.max_examples, derandomize=True, database=None, deadline=None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False)
    @given(st.fixed_dictionaries({name: to_strategy(s) for name, s in properties.inputs.items()}))
    def holds(inputs: dict[str, Any]) -> None:
        nonlocal draws
        draws += 1
        output = call(inputs)
        if invariants is None:
            return
        try:
            verdicts = backend.run(invariants, {"inputs": inputs, "output": output}, policy, node=node,
                                   fixed=True).output
        except SandboxError as exc:
            raise CodeRejected(f"an invariant failed to evaluate on inputs {_short(inputs)}, output "
                               f"{_short(output)}: {exc.type_name}: {exc.message}", node=node,
                               field="properties.invariants") from None
        for expression, ok in zip(properties.invariants, verdicts["holds"], strict=False):
            if not ok:
                raise CodeRejected(f"invariant {expression!r} is false on inputs {_short(inputs)}, output "
                                   f"{_short(output)}", node=node, field="properties.invariants")

    try:
        holds()
    except CodeRejected as exc:
        failure.append(exc)
    except Exception as exc:  # hypothesis itself refusing a strategy (e.g. an empty range)
        raise CodeRejected(f"the property spec cannot be drawn from: {type(exc).__name__}: {exc}", node=node,
                           field="properties.inputs") from None
    if failure:
        raise failure[0]
    return draws


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
