"""Deterministic aggregators for consensus nodes.

Both are functions of the multiset of samples: the order in which samples
arrive never changes the answer.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from typing import Any

from .errors import AggregationError
from .plan import MajorityAggregator, MedianAggregator


@dataclass(frozen=True)
class Vote:
    value: Any
    count: int          # samples that agree with the winner
    total: int          # samples seen

    @property
    def agreement(self) -> float:
        return self.count / self.total if self.total else 0.0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def majority(samples: list[Any], spec: MajorityAggregator) -> Vote:
    """Most common answer; numbers within ``tolerance`` of a cluster's smallest member count as one.

    Clusters are formed greedily over the sorted numbers, so they depend only on
    the multiset. A cluster's answer is its most common exact value (smallest on
    a tie). Between clusters of equal size the tie rule decides; numbers order
    before other values, which order by canonical JSON.
    """
    if not samples:
        raise AggregationError("no samples to aggregate")
    groups: list[tuple[Any, int, tuple[int, Any]]] = []  # (answer, count, sort key)
    numbers = sorted(v for v in samples if _is_number(v))
    if any(isinstance(v, float) and math.isnan(v) for v in numbers):
        raise AggregationError("cannot vote over NaN samples")
    i = 0
    while i < len(numbers):
        j = i
        while j < len(numbers) and numbers[j] - numbers[i] <= spec.tolerance:
            j += 1
        cluster = numbers[i:j]
        counts: dict[Any, int] = {}
        for v in cluster:
            counts[v] = counts.get(v, 0) + 1
        answer = min(counts, key=lambda v: (-counts[v], v))
        groups.append((answer, len(cluster), (0, answer)))
        i = j
    others: dict[str, tuple[Any, int]] = {}
    for v in samples:
        if not _is_number(v):
            key = _canonical(v)
            prev = others.get(key)
            others[key] = (v, (prev[1] if prev else 0) + 1)
    for key, (value, count) in others.items():
        groups.append((value, count, (1, key)))
    best = max(count for _, count, _ in groups)
    leaders = sorted((g for g in groups if g[1] == best), key=lambda g: g[2])
    if len(leaders) > 1 and spec.tie == "error":
        raise AggregationError(f"tie between {len(leaders)} answers with {best} votes each", value=best)
    winner = leaders[-1] if spec.tie == "largest" else leaders[0]
    return Vote(winner[0], winner[1], len(samples))


def median(samples: list[Any], spec: MedianAggregator) -> Vote:
    """Lower median of numeric samples; agreement counts samples equal to it."""
    if not samples:
        raise AggregationError("no samples to aggregate")
    bad = [v for v in samples if not _is_number(v) or (isinstance(v, float) and math.isnan(v))]
    if bad:
        raise AggregationError(f"median needs numbers, got {bad[0]!r}")
    value = statistics.median_low(samples)
    return Vote(value, sum(1 for v in samples if v == value), len(samples))


def aggregate(samples: list[Any], spec: MajorityAggregator | MedianAggregator) -> Vote:
    if isinstance(spec, MajorityAggregator):
        return majority(samples, spec)
    return median(samples, spec)
