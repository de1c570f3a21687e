"""`sgde compile --holdout K`: examples the teacher never sees veto candidates that only fit the training ones.

The real tiny student, a scripted `command:` teacher (real subprocesses), the
real sandbox. The teacher offers plus-only code, then code whose regular
expression fits the training questions' surface only, then the correct code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sgde.compiler.report import NO_STUDENT

FIXTURES = Path(__file__).parent / "fixtures" / "compile"
TASK = FIXTURES / "arith_task.yaml"
TEACHER = f"command:{sys.executable} {FIXTURES / 'holdout_teacher.py'}"
#: small operands: the overfitting regex (6- or 7-digit first operand) misses them, plus-only code gets them
HELD_OUT = [{"id": "held-1", "input": {"question": "What is 40 plus 2?"}, "answer": 42},
            {"id": "held-2", "input": {"question": "What is 1500 plus 25?"}, "answer": 1525}]


def _examples(tmp_path: Path) -> Path:
    # the arith task with a shorter student answer: only the seed plan runs the student, and it is wrong anyway
    (tmp_path / "task.yaml").write_text(TASK.read_text().replace("max_tokens: 48", "max_tokens: 16"))
    path = tmp_path / "examples.jsonl"
    training = (FIXTURES / "arith_examples.jsonl").read_text()
    path.write_text(training + "".join(json.dumps(e) + "\n" for e in HELD_OUT))
    return path


def _sgde(tmp_path, model, *args, env=None):
    command = [sys.executable, "-m", "sgde.compiler.cli", "compile", "task.yaml", "--examples", "examples.jsonl",
               "--m", "3", "--model", str(model), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "SGDE_N_THREADS": "1", **(env or {})})


def _checkpoint(run_dir: Path) -> dict:
    return json.loads(sorted(run_dir.glob("checkpoint-*.json"))[-1].read_text())


@pytest.mark.model
def test_overfit_code_is_rejected_on_held_out_examples_the_teacher_never_sees(tmp_path, tiny_model_path):
    _examples(tmp_path)
    log = tmp_path / "received.log"
    done = _sgde(tmp_path, tiny_model_path, "--holdout", "2", "--teacher", TEACHER, "--out", "plan.yaml",
                 "--transcript", "t.jsonl", env={"HOLDOUT_TEACHER_LOG": str(log)})
    assert done.returncode == 0, done.stderr
    checkpoint = _checkpoint(tmp_path / "plan.run")
    candidates = {e["iteration"]: e for e in checkpoint["history"] if e["event"] in ("accepted", "rejected")}
    assert {i: e["event"] for i, e in candidates.items()} == {1: "accepted", 2: "rejected", 3: "accepted"}

    # (1) the regex fitted to the training questions: training up, held-out down, so rejected, with counts only
    overfit = candidates[2]
    assert overfit["score"]["correct"] == 6 and overfit["holdout"] == {"correct": 0, "total": 4, "tokens": 0}
    assert overfit["reason"].startswith("held-out score fell from 4/4 to 0/4 while training rose from 4/6 to 6/6")
    plan = yaml.safe_load((tmp_path / "plan.yaml").read_text())
    source = next(n for n in plan["nodes"] if n["id"] == "answer")["source"]
    assert "fullmatch" not in source and "words[3]" in source  # the final plan is the correct program

    # (2) the good candidates are accepted; seed, each accepted plan and the final plan show both scores
    rows = plan["provenance"]["score_history"]
    assert [(r["iteration"], r["correct"], r["holdout"]["correct"], r["holdout"]["total"]) for r in rows][1:] == [
        (1, 4, 4, 4), (3, 6, 4, 4)]
    assert rows[0]["change"] == "seed plan" and rows[0]["holdout"]["total"] == 4
    assert list(rows[0]) == ["iteration", "correct", "total", "tokens", "holdout", "change"]
    assert plan["provenance"]["notes"] == ("compiled from task 'arith' on 3 examples (2 more held out from the "
                                           "teacher, final held-out score 4/4); converged: every example passes in "
                                           "every sample")
    assert checkpoint["holdout"]["correct"] == 4 and checkpoint["history"][0]["holdout"]["total"] == 4
    report = (tmp_path / "plan.report.md").read_text()
    assert "- final score on the 2 held-out examples (never shown to the teacher): 4/4 correct" in report
    assert "| iteration | correct | total | held-out correct | held-out total | student tokens | change |" in report
    assert "| 3 | 6 | 6 | 4 | 4 | 0 | candidate 1: offload_to_code(answer), set_output(answer.answer) |" in report
    assert "| rejected | held-out score fell from 4/4 to 0/4" in report
    assert NO_STUDENT in report  # code alone answers: the reviewer is told held-out scores do not prove its parsing

    # (3) no held-out input or id reached the teacher: not in the transcript, not in what the command read,
    # though the teacher did read the counts (request 3's history holds the held-out rejection)
    transcript = (tmp_path / "t.jsonl").read_text()
    received = log.read_text()
    assert len(received.splitlines()) == 3 and "held-out score fell from 4/4 to 0/4" in received
    for example in HELD_OUT:
        for text in (example["input"]["question"], example["id"]):
            assert text not in transcript and text not in received
            for path in (tmp_path / "plan.run").glob("checkpoint-*.json"):  # held-out outcomes are never kept
                assert text not in path.read_text()

    # --resume: from the checkpoint after iteration 1, the held-out score it keeps rejects the overfit again
    for path in sorted((tmp_path / "plan.run").glob("checkpoint-*.json"))[2:]:
        path.unlink()
    resumed = _sgde(tmp_path, tiny_model_path, "--holdout", "2", "--teacher", TEACHER, "--out", "again.yaml",
                    "--run-dir", "plan.run", "--resume", "--report", "again.report.md",
                    env={"HOLDOUT_TEACHER_LOG": str(log)})
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at iteration 1" in resumed.stderr and len(log.read_text().splitlines()) == 3  # no new call
    assert (tmp_path / "again.yaml").read_bytes() == (tmp_path / "plan.yaml").read_bytes()
    assert (tmp_path / "again.report.md").read_text() == report.replace("plan.yaml", "again.yaml")
    # other held-out examples are another compile: its run dir is not resumed
    other = _sgde(tmp_path, tiny_model_path, "--holdout", "1", "--teacher", TEACHER, "--out", "other.yaml",
                  "--run-dir", "plan.run", "--resume")
    assert other.returncode == 2 and "belongs to a different compile" in other.stderr


@pytest.mark.model
def test_holdout_0_changes_nothing_and_without_it_the_overfit_code_wins(tmp_path, tiny_model_path):
    _examples(tmp_path)
    plain = _sgde(tmp_path, tiny_model_path, "--teacher", TEACHER, "--out", "plain.yaml", "--transcript", "t.jsonl")
    assert plain.returncode == 0, plain.stderr
    plan = yaml.safe_load((tmp_path / "plain.yaml").read_text())
    assert "fullmatch" in next(n for n in plan["nodes"] if n["id"] == "answer")["source"]  # what --holdout stops
    provenance = plan["provenance"]
    assert "holdout" not in json.dumps(provenance["score_history"]) and "held" not in provenance["notes"]
    assert "held-out" not in (tmp_path / "plain.report.md").read_text()
    # --holdout 0 replays the flagless compile: every request identical (else replay_mismatch), same plan, report
    zero = _sgde(tmp_path, tiny_model_path, "--holdout", "0", "--teacher", "replay:t.jsonl", "--out", "zero.yaml",
                 "--report", "plain.zero.md")
    assert zero.returncode == 0, zero.stderr
    assert (tmp_path / "zero.yaml").read_bytes() == (tmp_path / "plain.yaml").read_bytes()
    assert (tmp_path / "plain.zero.md").read_bytes() == (tmp_path / "plain.report.md").read_bytes()
    assert "holdout" not in (tmp_path / "zero.run" / "checkpoint-000.json").read_text()


def test_more_held_out_examples_than_the_file_has_is_a_usage_error(tmp_path):
    _examples(tmp_path)  # 5 examples: 3 for training, 2 to hold out
    refused = _sgde(tmp_path, "no-model.gguf", "--holdout", "3", "--teacher", TEACHER, "--out", "plan.yaml")
    assert refused.returncode == 2
    assert "[field 'holdout'] --holdout 3: examples.jsonl has 5 examples, but --m 3 training plus 3 held-out " \
        "examples need 6" in refused.stderr
    assert not (tmp_path / "plan.yaml").exists()



@pytest.mark.parametrize("twin", ["same input, other id", "same id, other input"])
def test_a_held_out_example_that_repeats_a_training_one_is_refused(tmp_path, twin):
    path = _examples(tmp_path)
    training = [json.loads(line) for line in (FIXTURES / "arith_examples.jsonl").read_text().splitlines()][:3]
    leak = ({**training[1], "id": "held-leak"} if twin == "same input, other id"
            else {**HELD_OUT[0], "id": training[1]["id"]})
    path.write_text("".join(json.dumps(e) + "\n" for e in [*training, HELD_OUT[1], leak]))
    refused = _sgde(tmp_path, "no-model.gguf", "--holdout", "2", "--teacher", TEACHER, "--out", "plan.yaml")
    assert refused.returncode == 2, refused.stderr
    same = "input" if twin == "same input, other id" else "id"
    assert (f"[field 'holdout'] --holdout: held-out example {leak['id']!r} in examples.jsonl has the same {same} "
            f"as training example {training[1]['id']!r}") in refused.stderr
    assert not (tmp_path / "plan.yaml").exists() and not (tmp_path / "plan.run").exists()

def test_held_out_scores_are_absent_from_every_dump_when_unset():
    from sgde.compiler.history import CandidateEvent, ScoreRow, ScoreSummary, SeedEvent
    from sgde.compiler.loop import CandidateVerdict, CompileOutcome

    score = ScoreSummary(correct=1, total=2, tokens=3)
    assert list(SeedEvent(iteration=0, event="seed", score=score).to_json()) == ["iteration", "event", "score"]
    assert list(ScoreRow(iteration=0, correct=1, total=2, tokens=3, change="seed plan").model_dump()) == [
        "iteration", "correct", "total", "tokens", "change"]
    verdict = CandidateVerdict(iteration=1, candidate=1, verdict="accepted", edits=[], score=score)
    outcome = CompileOutcome(status="finished", run_dir="r", candidates=[verdict])
    dumped = outcome.model_dump(mode="json")
    assert "holdout" not in dumped and "holdout" not in dumped["candidates"][0]
    assert dumped["error"] is None  # only the held-out field is left out while unset
    held = CandidateEvent(iteration=1, candidate=1, rationale="r", edits=["e"], score=score, holdout=score,
                          event="rejected", reason="held-out score fell")
    assert list(held.to_json()) == ["iteration", "candidate", "rationale", "edits", "score", "holdout", "event",
                                    "reason"]
    assert CompileOutcome.model_validate_json(outcome.model_dump_json()) == outcome
