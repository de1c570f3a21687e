"""How an answer is scored: as PAL scores GSM-Hard, |prediction - answer| < 1e-3.

An absolute tolerance on purpose: a relative one would accept a wrong digit in
an 8-digit answer.
"""

from __future__ import annotations

import math
from typing import Any

ABS_TOLERANCE = 1e-3


def as_number(value: Any) -> float | None:
    """A prediction as a float: numbers, numeric strings ("1,234.5"), {"result": x}; else None."""
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) < 2**1023 else None
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "").replace("$", ""))
        except ValueError:
            return None
    else:
        return None
    return number if number is not None and math.isfinite(number) else None


def is_correct(prediction: Any, answer: float) -> bool:
    number = as_number(prediction)
    return number is not None and abs(number - answer) < ABS_TOLERANCE
