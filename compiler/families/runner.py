"""A family's programs in the sandbox: one warm restricted backend, the strict policy, answers or reasons."""

from __future__ import annotations

import math
from typing import Any

from sgde.runtime.errors import CompileRefused, SandboxError, SandboxUnavailable
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import SandboxBackend, make_backend

from ..errors import FamilyError

_RUNNER = "\n\n\ndef run(inputs):\n    return {{'answer': {call}}}\n"


def runnable(program: str, call: str) -> str:
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


class Runner:
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
