"""`generate_many`: the n samples of one prompt decoded as one llama.cpp batch, on the real tiny model."""

from __future__ import annotations

import re

import pytest

from sgde.runtime.errors import ModelError
from sgde.runtime.plan import Sampling, Shot
from sgde.runtime.student.base import Generation, Student

pytestmark = pytest.mark.model

SYSTEM = "You are a helpful assistant."
SHOTS = (Shot(user="Name a fruit.", assistant="Apple."),)


def _seeds(n, **settings):
    return [Sampling(seed=seed, **settings) for seed in range(n)]


def test_greedy_batch_matches_generate(tiny_student):
    samplings = _seeds(3, temperature=0, max_tokens=24)
    batch = tiny_student.generate_many(SYSTEM, "Describe the sea in one sentence.", samplings, shots=SHOTS)
    single = [tiny_student.generate(SYSTEM, "Describe the sea in one sentence.", s, shots=SHOTS) for s in samplings]
    assert [g.text for g in batch] == [g.text for g in single]
    assert batch[0].text.strip()
    assert {g.tokens_in for g in batch} == {single[0].tokens_in}  # the very prompt generate sends
    assert [g.tokens_out for g in batch] == [g.tokens_out for g in single]
    assert [g.finish_reason for g in batch] == [g.finish_reason for g in single]
    assert all(g.duration_s > 0 for g in batch)


def test_sampling_is_seeded_and_deterministic(tiny_student):
    samplings = _seeds(5, temperature=0.8, max_tokens=10)
    user = "Invent a name for a pet dragon and say why."
    first = tiny_student.generate_many("", user, samplings)
    tiny_student.generate_many("", "Name a colour.", samplings[:2])  # shares the cached template prefix
    again = tiny_student.generate_many("", user, samplings)
    assert [g.text for g in first] == [g.text for g in again]
    assert len({g.text for g in first}) >= 2  # the seeds really differ


def test_grammar_constrains_every_sample(tiny_student):
    out = tiny_student.generate_many("", "Tell me a story about dragons.", _seeds(3, temperature=0.8, max_tokens=6),
                                     grammar="root ::= [0-9]+")
    assert all(re.fullmatch(r"[0-9]+", g.text) for g in out), [g.text for g in out]


def test_bad_grammar_is_a_model_error(tiny_student):
    with pytest.raises(ModelError) as info:
        tiny_student.generate_many("", "hi", _seeds(2, max_tokens=4), grammar="root ::= (")
    assert info.value.field == "grammar"


def test_stop_string_cuts_like_generate(tiny_student):
    user = "List the days of the week."
    full = tiny_student.generate_many("", user, _seeds(2, temperature=0, max_tokens=20))[0].text
    stop = full[len(full) // 2:len(full) // 2 + 3]
    assert stop.strip(), full
    samplings = _seeds(2, temperature=0, max_tokens=20, stop=(stop,))
    cut = tiny_student.generate_many("", user, samplings)
    assert [g.text for g in cut] == [full[:full.index(stop)]] * 2
    assert all(g.finish_reason == "stop" for g in cut)
    assert cut[0].text == tiny_student.generate("", user, samplings[0]).text


def test_max_tokens_caps_each_sample(tiny_student):
    out = tiny_student.generate_many("", "Write a long essay about the history of Rome.",
                                     [Sampling(seed=0, max_tokens=3), Sampling(seed=1, max_tokens=5)])
    assert [g.tokens_out for g in out] == [3, 5]
    assert all(g.finish_reason == "length" for g in out)


def test_requests_that_do_not_fit_are_model_errors(tiny_student):
    with pytest.raises(ModelError, match="n_ctx = 2048") as info:
        tiny_student.generate_many("", "word " * 3000, _seeds(2, max_tokens=4))
    assert info.value.limit == "n_ctx"
    with pytest.raises(ModelError, match="n_ctx_batch") as info:
        tiny_student.generate_many("", "hi", _seeds(64, max_tokens=1000))
    assert info.value.limit == "n_ctx_batch"
    with pytest.raises(ModelError, match="at most 64"):
        tiny_student.generate_many("", "hi", _seeds(65, max_tokens=4))
    # the student still works after refusing
    assert len(tiny_student.generate_many("", "hi", _seeds(2, max_tokens=2))) == 2


class _Echo(Student):
    model_name, model_sha256 = "echo", None

    def __init__(self):
        self.calls = []

    def generate(self, system, user, sampling, *, grammar=None, shots=()):
        self.calls.append((system, user, sampling.seed, grammar, shots))
        return Generation(text=f"{user}:{sampling.seed}", tokens_in=1, tokens_out=1, duration_s=0.0)


def test_default_generate_many_calls_generate_per_sampling():
    student = _Echo()
    out = student.generate_many("sys", "q", _seeds(3), grammar="root ::= \"a\"", shots=SHOTS)
    assert [g.text for g in out] == ["q:0", "q:1", "q:2"]
    assert student.calls == [("sys", "q", seed, "root ::= \"a\"", SHOTS) for seed in range(3)]
