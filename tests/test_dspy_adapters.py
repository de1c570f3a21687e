"""benchmarks/dspy_adapters.py: DSPy on sgde's student and teacher (runs only where the bench extra is installed)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

dspy = pytest.importorskip("dspy")

# DSPy 3.4 deprecates BaseLM.forward() (the adapters' brief) but supports it until 3.5; the bench extra pins 3.4
pytestmark = pytest.mark.filterwarnings("ignore:Implementing custom LMs through BaseLM.forward:DeprecationWarning")

REPO = Path(__file__).resolve().parent.parent
TEACHER_SCRIPT = REPO / "tests" / "fixtures" / "dspy_teacher.py"


def _load_adapters():
    spec = importlib.util.spec_from_file_location("dspy_adapters", REPO / "benchmarks" / "dspy_adapters.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("dspy_adapters", module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules["dspy_adapters"])
    return module


adapters = _load_adapters()


def test_a_chat_splits_into_system_shots_and_the_last_user_message():
    system, shots, user = adapters.split_messages([
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"}, {"role": "user", "content": [{"type": "text", "text": "q"},
                                                                              {"type": "text", "text": "2"}]},
        {"role": "assistant", "content": "a2"}, {"role": "user", "content": "q3"}, {"role": "user", "content": "!"}])
    assert system == "be brief"
    assert [(s.user, s.assistant) for s in shots] == [("q1", "a1"), ("q2", "a2")]
    assert user == "q3\n\n!"
    with pytest.raises(ValueError, match="end with a user message"):
        adapters.split_messages([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])


@pytest.mark.model
def test_the_student_answers_a_dspy_predict_call_with_its_demos_as_shots(tiny_student):
    seen = []

    class Spy:
        model_name = tiny_student.model_name

        def generate(self, system, user, sampling, **kwargs):
            seen.append((system, user, sampling, kwargs.get("shots", ())))
            return tiny_student.generate(system, user, sampling, **kwargs)

    lm = adapters.StudentLM(Spy(), max_tokens=48, seed=3)
    adapters.configure_dspy(lm)
    predict = dspy.Predict("question -> answer")
    predict.demos = [dspy.Example(question="What is the capital of Italy?", answer="Rome"),
                     dspy.Example(question="What is the capital of Spain?", answer="Madrid")]
    first = predict(question="What is the capital of France?").answer
    again = predict(question="What is the capital of France?").answer

    assert isinstance(first, str) and first.strip() and again == first  # greedy and uncached: the same answer twice
    assert len(seen) == 2  # DSPy's cache is off: both calls reached the student
    system, user, sampling, shots = seen[0]
    assert "`question`" in system and "France" in user and "Italy" not in user
    assert [s.user.split("\n")[-1] for s in shots] == ["What is the capital of Italy?", "What is the capital of Spain?"]
    assert "Rome" in shots[0].assistant
    assert (sampling.temperature, sampling.max_tokens, sampling.seed) == (0.0, 48, 3)
    assert lm.usage.calls == 2 and lm.usage.tokens_out > 0 and lm.usage.tokens_in > 0 and lm.usage.seconds > 0
    lm.forward(messages=[{"role": "user", "content": "Say hi."}], temperature=0.7, max_tokens=5, rollout_id=2)
    assert seen[-1][2].temperature == 0.7 and seen[-1][2].max_tokens == 5 and seen[-1][2].seed == 3 + 2 * 1_000_003


def test_teacher_calls_are_recorded_and_replay_with_no_teacher(tmp_path):
    transcript = tmp_path / "dspy-teacher.jsonl"
    program = dspy.Predict("question -> answer")
    questions = ["What should a plan for a word problem do first?", "And then?"]

    teacher = adapters.recorded_teacher(transcript, f"command:{sys.executable} {TEACHER_SCRIPT}")
    lm = adapters.TeacherLM(teacher)
    try:
        with dspy.context(lm=lm):
            recorded = [program(question=q).answer for q in questions]
    finally:
        teacher.close()

    calls = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert len(calls) == lm.usage.calls == 2
    assert [c["request"]["kind"] for c in calls] == ["complete", "complete"]
    assert calls[0]["request"]["response_schema"] == adapters.TEXT_SCHEMA
    assert calls[0]["request"]["payload"]["messages"][-1]["content"].count(questions[0]) == 1
    assert calls[0]["teacher"].startswith("command:")
    assert lm.usage.chars == sum(adapters.call_chars(c["request"], c["reply"]["data"]) for c in calls)
    assert recorded[0].startswith("answer ") and recorded[0] != recorded[1]

    replay = adapters.recorded_teacher(transcript, None)  # no live teacher at all
    lm = adapters.TeacherLM(replay)
    with dspy.context(lm=lm):
        replayed = [program(question=q).answer for q in questions]
    assert replayed == recorded
    adapters.check_replayed(replay)
    from sgde.compiler.errors import ReplayMismatch
    with dspy.context(lm=lm), pytest.raises(ReplayMismatch, match="transcript ends after 2 calls"):
        program(question="one more")


def test_a_replay_without_a_transcript_says_a_teacher_is_needed(tmp_path):
    with pytest.raises(FileNotFoundError, match="a teacher is needed"):
        adapters.recorded_teacher(tmp_path / "none.jsonl", None)


@pytest.mark.parametrize("name", ["gsmhard-0121-mipro-cot-m3", "gsmhard-0121-gepa-pot-m3"])
def test_a_saved_program_loads_with_its_instructions_and_demos(name):
    from sgde.runtime.sandbox import make_backend

    path = REPO / "benchmarks" / "results" / "dspy" / f"{name}.program.json"
    saved = json.loads(path.read_text())
    sandbox = adapters.PalSandbox(make_backend("restricted"))
    try:
        program = adapters.load_program(name.split("-")[3], sandbox, path)
        predictors = dict(program.named_predictors())
        assert set(predictors) == set(saved) - {"metadata"}
        for key, predictor in predictors.items():
            assert predictor.signature.instructions == saved[key]["signature"]["instructions"]
            assert len(predictor.demos) == len(saved[key]["demos"])
        assert any(saved[key]["demos"] for key in predictors) == name.startswith("gsmhard-0121-mipro")
        with pytest.raises(FileNotFoundError, match="optimise it first"):
            adapters.load_program("cot", sandbox, path.with_name("none.program.json"))
    finally:
        sandbox.close()


def _compare(*args: str, timeout: float = 120):
    import subprocess

    return subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare.py"), *args], capture_output=True,
                          text=True, timeout=timeout)


def test_scoring_saved_programs_names_the_missing_ones_and_wants_no_teacher(tmp_path):
    done = _compare("--dspy-saved", "--methods", "dspy-gepa", "--families", "gsmhard-0121", "--dspy-dir",
                    str(tmp_path), "--out-dir", str(tmp_path / "out"))
    assert done.returncode != 0
    assert "no saved DSPy program" in done.stderr
    assert "gsmhard-0121-gepa-cot-m3.program.json" in done.stderr and "gepa-pot-m3.program.json" in done.stderr
    done = _compare("--dspy-saved", "--teacher", "command:true", "--methods", "dspy-gepa-pot", "--out-dir",
                    str(tmp_path / "out"))
    assert done.returncode != 0 and "drop --teacher" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing ran


@pytest.mark.model
def test_a_saved_program_is_scored_on_variants_with_no_teacher(tmp_path):
    saved = tmp_path / "dspy"
    saved.mkdir()
    name = "gsmhard-0121-gepa-pot-m3"
    for suffix in (".jsonl", ".program.json"):
        source = REPO / "benchmarks" / "results" / "dspy" / f"{name}{suffix}"
        (saved / source.name).write_bytes(source.read_bytes())
    done = _compare("--model", "smollm2-135m", "--dspy-saved", "--methods", "dspy-gepa-pot", "--families",
                    "gsmhard-0121", "--variants", "1", "--dspy-dir", str(saved), "--out-dir", str(tmp_path / "out"),
                    timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    [row] = [r for r in json.loads((tmp_path / "out" / "compare.json").read_text()) if r["family"] != "all"]
    assert (row["method"], row["n"], row["teacher_mode"]) == ("dspy-gepa-pot", 1, "saved program")
    assert row["teacher_calls"] == 1  # the recording's cost, read from its transcript
    assert "optimise_seconds" not in row and row["items"][0]["tokens_out"] > 0
    assert "scoring the saved program" in done.stderr
