"""Aggregators: properties that make a vote trustworthy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgde.runtime.aggregate import aggregate, majority, median
from sgde.runtime.errors import AggregationError
from sgde.runtime.plan import MajorityAggregator, MedianAggregator

numbers = st.integers(-10**6, 10**6) | st.floats(-1e6, 1e6, allow_nan=False)
answers = numbers | st.text(max_size=3) | st.booleans() | st.none()
ties = st.sampled_from(["smallest", "largest"])


def maj(tolerance=0.0, tie="smallest"):
    return MajorityAggregator(kind="majority", tolerance=tolerance, tie=tie)


@given(st.lists(answers, min_size=1, max_size=12), st.randoms(), st.floats(0, 5), ties)
def test_majority_is_permutation_invariant(samples, rnd, tolerance, tie):
    shuffled = list(samples)
    rnd.shuffle(shuffled)
    assert majority(samples, maj(tolerance, tie)) == majority(shuffled, maj(tolerance, tie))


@given(st.lists(numbers, min_size=1, max_size=12), st.randoms())
def test_median_is_permutation_invariant(samples, rnd):
    shuffled = list(samples)
    rnd.shuffle(shuffled)
    assert median(samples, MedianAggregator(kind="median")) == median(shuffled, MedianAggregator(kind="median"))


@given(answers, st.lists(answers, max_size=6), st.floats(0, 1e-3), ties, st.randoms())
def test_a_strict_majority_always_wins(winner, others, tolerance, tie, rnd):
    samples = [winner] * (len(others) + 1) + others
    rnd.shuffle(samples)
    vote = majority(samples, maj(tolerance, tie))
    assert vote.count >= len(others) + 1
    assert vote.value == winner


@given(st.lists(st.integers(-1000, 1000), min_size=2, max_size=8, unique=True), st.randoms())
def test_ties_follow_the_stated_rule(values, rnd):
    samples = values * 2
    rnd.shuffle(samples)
    assert majority(samples, maj(tie="smallest")).value == min(values)
    assert majority(samples, maj(tie="largest")).value == max(values)
    with pytest.raises(AggregationError, match="tie"):
        majority(samples, maj(tie="error"))


@given(st.floats(-1e6, 1e6), st.lists(st.floats(0, 0.009), min_size=2, max_size=6))
def test_numbers_within_tolerance_count_as_one_answer(base, offsets):
    samples = [base + d for d in offsets] + [base + 100.0]
    vote = majority(samples, maj(tolerance=0.01))
    assert vote.count == len(offsets)
    assert abs(vote.value - base) <= 0.01
    # with no tolerance every distinct float stands alone
    assert majority(samples, maj(tolerance=0)).count == max(samples.count(v) for v in samples)


def test_agreement_and_median_low():
    vote = aggregate([3, 1, 2, 2], MedianAggregator(kind="median"))
    assert vote.value == 2 and vote.count == 2 and vote.agreement == 0.5
    assert aggregate([1, 2, 3, 4], MedianAggregator(kind="median")).value == 2  # lower median is a real sample


@pytest.mark.parametrize("samples,spec,message", [
    ([], maj(), "no samples"),
    (["a", 1], MedianAggregator(kind="median"), "numbers"),
    ([float("nan"), 1.0], maj(), "NaN"),
])
def test_bad_samples_are_typed_errors(samples, spec, message):
    with pytest.raises(AggregationError, match=message):
        aggregate(samples, spec)
