"""The SGDe loop end to end on a toy task: the real tiny student, a scripted `command:` teacher
(real subprocesses), the real sandbox, real hypothesis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sgde.compiler.errors import CompileError, ReplayMismatch
from sgde.compiler.forward import PROBE_TEMPERATURE, Scorer, probe_plan
from sgde.compiler.history import CandidateEvent, CritiqueEvent, ReplyRejectedEvent, SeedEvent
from sgde.compiler.loop import CHECKPOINT_FORMAT, CompileOptions, CompileState, run_compile
from sgde.compiler.requests import CRITIQUE_INSTRUCTIONS, TEACHER_PROTOCOL, node_stats
from sgde.compiler.task import load_examples, load_task, seed_plan
from sgde.compiler.teachers import load_transcript, make_teacher
from sgde.runtime.plan import CodeNode
from sgde.runtime.plan_io import load_plan, loads_plan
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import make_backend

FIXTURES = Path(__file__).parent / "fixtures" / "compile"
TASK = FIXTURES / "arith_task.yaml"
EXAMPLES = FIXTURES / "arith_examples.jsonl"
TEACHER = f"command:{sys.executable} {FIXTURES / 'scripted_teacher.py'}"

pytestmark = pytest.mark.model


@pytest.fixture
def sandboxes():
    backends = {"restricted": make_backend("restricted")}
    yield backends
    for backend in backends.values():
        backend.close()


def _compile(tmp_path, student, sandboxes, *, teacher=TEACHER, run_dir="run", resume=False, **options):
    task = load_task(TASK)
    return run_compile(task=task, seed=seed_plan(task, TASK), examples=load_examples(EXAMPLES, task, 3),
                       teacher=make_teacher(teacher), student=student, policy=load_policy("default"),
                       sandboxes=sandboxes, run_dir=tmp_path / run_dir, resume=resume,
                       options=CompileOptions(**options))


def test_loop_rejects_every_bad_edit_with_its_reason_and_never_a_worse_plan(tmp_path, tiny_student, sandboxes):
    result = _compile(tmp_path, tiny_student, sandboxes)
    state = result.state
    assert state.stop.startswith("converged")
    assert state.teacher_calls == 2
    assert isinstance(state.history[0], SeedEvent) and state.history[0].score.total == 3 * 2
    assert [(e.iteration, e.node) for e in state.history if isinstance(e, CritiqueEvent)] == [(1, "answer"),
                                                                                             (2, "answer")]
    candidates = {(e.iteration, e.candidate): e for e in state.history if isinstance(e, CandidateEvent)}
    assert sorted(candidates) == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    assert [key for key, e in candidates.items() if e.accepted] == [(1, 3), (2, 3)]
    audit, properties = candidates[1, 1], candidates[1, 2]
    assert audit.score is None and audit.verified_code is None  # refused before it ran
    assert "static audit refused" in audit.reason and "'os'" in audit.reason
    assert "invariant" in properties.reason and "output['answer'] >= 0" in properties.reason
    for key in ((2, 1), (2, 2)):
        assert "not better" in candidates[key].reason and candidates[key].failures
        assert candidates[key].score.correct < candidates[2, 3].score.correct
    # the consensus candidate really ran as consensus: sampled at its temperature, every sample scored
    voted = candidates[2, 2]
    assert voted.edits[-1] == "wrap_consensus(answer)" and voted.score.total == 3 * 2
    node = voted.failures[0]["nodes"]
    assert [r["kind"] for r in node].count("consensus") == 1 and any("sample" in r for r in node)
    winner = candidates[2, 3]
    assert winner.reason is None and winner.failures is None and winner.score.correct == winner.score.total
    assert [v.node for v in winner.verified_code] == ["answer"] and winner.verified_code[0].examples == 1
    # the score never goes down, and each accepted step went up
    correct = [row.correct for row in state.scores]
    assert correct == sorted(correct) and correct[-1] == 3 * 2 and len(set(correct)) == len(correct)
    assert [row.change.split(":")[0] for row in state.scores] == ["seed plan", "candidate 3", "candidate 3"]
    answer = result.plan.node("answer")
    assert isinstance(answer, CodeNode) and answer.properties is not None and "plus" in answer.source
    assert result.plan.provenance.teacher == TEACHER
    assert [row["iteration"] for row in result.plan.provenance.score_history] == [0, 1, 2]
    assert result.plan.provenance.student_build == tiny_student.build_info()
    # the teacher is told which student it writes for, and how small it is (protocol 3)
    first, second = (call["request"] for call in load_transcript(tmp_path / "run" / "transcript.jsonl"))
    assert first["instructions"] == CRITIQUE_INSTRUCTIONS[TEACHER_PROTOCOL] and TEACHER_PROTOCOL == 4
    assert first["payload"]["student"] == {"model": tiny_student.model_name, "parameters": tiny_student.parameters}
    assert 100e6 < tiny_student.parameters < 200e6  # SmolLM2-135M, read from the GGUF
    # ... and where the compile stands against its budget (protocol 4): call 2 of 8, after an accepted iteration
    assert first["payload"]["budget"] == {"teacher_call": 1, "max_teacher_calls": 8,
                                          "iterations_without_acceptance": 0, "patience": 3}
    assert second["payload"]["budget"]["teacher_call"] == 2

    # the checkpoint keeps the history as the loop always wrote it (same keys, same order), and it reads back
    checkpoint = json.loads(sorted((tmp_path / "run").glob("checkpoint-*.json"))[-1].read_text())
    assert checkpoint["format"] == CHECKPOINT_FORMAT == 2
    keys = {(e.get("candidate"), e["event"]): list(e) for e in checkpoint["history"] if e["iteration"] == 2}
    assert keys[None, "critique"] == ["iteration", "event", "node", "critique", "direction"]
    assert keys[1, "rejected"] == ["iteration", "candidate", "rationale", "edits", "score", "verified_code", "event",
                                   "failures", "reason"]
    assert keys[3, "accepted"] == ["iteration", "candidate", "rationale", "edits", "score", "verified_code", "event"]
    assert list(checkpoint["history"][0]) == ["iteration", "event", "score"]
    assert list(checkpoint["scores"][0]) == ["iteration", "correct", "total", "tokens", "change"]
    again = CompileState.from_json(checkpoint).to_json(checkpoint["fingerprint"])
    assert json.dumps(again) == json.dumps(checkpoint)


def test_cli_compile_writes_plan_report_transcript_and_replays_byte_identically(tmp_path, tiny_model_path):
    def sgde(*args, threads="1"):
        return subprocess.run([sys.executable, "-m", "sgde.compiler.cli", *args], capture_output=True, text=True,
                              timeout=600, cwd=tmp_path, env={**os.environ, "SGDE_N_THREADS": threads})

    common = ["compile", str(TASK), "--examples", str(EXAMPLES), "--m", "3", "--model", str(tiny_model_path)]
    first = sgde(*common, "--teacher", TEACHER, "--out", "plan.yaml", "--transcript", "t.jsonl")
    assert first.returncode == 0, first.stderr
    report = (tmp_path / "plan.report.md").read_text()
    assert "static audit refused" in report and "| accepted |" in report and "converged" in report
    calls = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [c["call"] for c in calls] == [1, 2] and all(c["teacher"] == TEACHER for c in calls)
    # every call names the student build its request was made with; the plan's provenance too
    builds = [c["student_build"] for c in calls]
    assert builds[0] == builds[1] and builds[0]["n_threads"] == 1
    assert builds[0]["llama_cpp_python"] and "CPU" in builds[0]["system_info"]
    assert load_plan(tmp_path / "plan.yaml").provenance.student_build == builds[0]
    assert "1 threads, llama-cpp-python" in report
    # the seed's greedy student node was probed for the teacher; the all-code plan of call 2 has nothing to probe
    probe = calls[0]["request"]["payload"]["stability_probe"]
    assert probe["total"] == 3 and probe["temperature"] > 0
    assert set(calls[0]["request"]["payload"]["node_stats"]["answer"]["probe_same_as_greedy"]) == {"a1", "a2", "a3"}
    assert calls[1]["request"]["payload"]["stability_probe"] is None
    plan = load_plan(tmp_path / "plan.yaml")
    assert sgde("validate", "plan.yaml").returncode == 0

    # on a machine that would run two threads, the replay runs the recorded one
    again = sgde(*common, "--teacher", "replay:t.jsonl", "--out", "replayed.yaml", threads="2")
    assert again.returncode == 0, again.stderr
    assert "recorded thread count (1)" in again.stderr
    assert (tmp_path / "replayed.yaml").read_bytes() == (tmp_path / "plan.yaml").read_bytes()
    replayed_calls = [json.loads(line) for line in
                      (tmp_path / "replayed.run" / "transcript.jsonl").read_text().splitlines()]
    assert replayed_calls == calls  # the replay's own transcript is the recording, builds included
    assert load_plan(tmp_path / "replayed.yaml").provenance.teacher == plan.provenance.teacher

    # the compiled plan runs with no teacher at all
    ran = sgde("run", "plan.yaml", "--input", "question=What is 31 minus 45?")
    assert ran.returncode == 0 and json.loads(ran.stdout) == {"ok": True, "output": -14}


def test_stability_probe_resamples_only_greedy_llm_nodes_and_never_changes_the_score(tiny_student, sandboxes):
    task = load_task(TASK)
    seed = seed_plan(task, TASK)
    scorer = Scorer(load_examples(EXAMPLES, task, 3), samples=2, seed=0, student=tiny_student,
                    policy=load_policy("default"), sandboxes=sandboxes)
    score, outcomes = scorer.score(seed)
    probes = scorer.probe(seed)
    assert len(probes) == 3 and len(outcomes) == 1 * 3  # greedy: one scored run stands for both samples
    scored_seeds = {r.seed for o in outcomes for r in o.trace}
    probe_seeds = {r.seed for o in probes for r in o.trace}
    assert probe_seeds.isdisjoint(scored_seeds)  # the probe draws past every scored sample
    assert [(o.output, o.trace[0].raw_text) for o in probes] == [(o.output, o.trace[0].raw_text)
                                                                for o in scorer.probe(seed)]  # reproducible
    assert scorer.score(seed)[0].summary() == score.summary()
    stats = node_stats(seed, outcomes, probes)["answer"]
    for example, same in stats["probe_same_as_greedy"].items():
        greedy = next(o for o in outcomes if o.example == example).output
        probed = next(o for o in probes if o.example == example).output
        assert same == (greedy == probed) and (example in stats["probe_outputs_that_differ"]) == (not same)
    sampled = probe_plan(seed).node("answer")
    assert sampled.sampling.temperature == PROBE_TEMPERATURE and seed.node("answer").sampling.temperature == 0
    code_only = loads_plan("""
name: c
inputs: {question: {type: string}}
output: {from: answer.n, type: number}
nodes:
- {id: answer, kind: code, reads: [question], source: "def run(inputs):\n    return {'n': 1}\n"}
""")
    assert probe_plan(code_only) is None and scorer.probe(code_only) == []


def test_replay_of_a_different_compile_shows_the_difference(tmp_path, tiny_student, sandboxes):
    _compile(tmp_path, tiny_student, sandboxes, max_teacher_calls=1)
    transcript = tmp_path / "run" / "transcript.jsonl"
    with pytest.raises(ReplayMismatch) as caught:  # another seed: the request's plan traces still match,
        _compile(tmp_path, tiny_student, sandboxes, teacher=f"replay:{transcript}", run_dir="other",
                 max_teacher_calls=1, samples=3)  # but the score's total differs
    assert caught.value.value == 1
    assert "--- recorded" in caught.value.message and '"total": 6' in caught.value.message
    assert '"total": 9' in caught.value.message
    # the same student recorded and replayed: the message rules the build out rather than guessing
    assert "the student's build matches the recording's" in caught.value.message
    assert f"({tiny_student.n_threads} threads," in caught.value.message


def test_a_run_dir_is_never_overwritten_without_resume(tmp_path, tiny_student, sandboxes):
    _compile(tmp_path, tiny_student, sandboxes, max_teacher_calls=0)
    with pytest.raises(CompileError) as caught:
        _compile(tmp_path, tiny_student, sandboxes, max_teacher_calls=0)
    assert caught.value.field == "run_dir" and "--resume" in caught.value.message


def test_malformed_replies_are_rejected_with_the_field_and_the_compile_goes_on(tmp_path, tiny_student, sandboxes,
                                                                               monkeypatch):
    monkeypatch.setenv("SCRIPTED_TEACHER_MODE", "malformed")
    result = _compile(tmp_path, tiny_student, sandboxes, max_teacher_calls=5, patience=2)
    assert result.state.stop.startswith("stalled")
    rejected = [e for e in result.state.history if isinstance(e, ReplyRejectedEvent)]
    assert [e.iteration for e in rejected] == [1, 2]
    assert all("critiques" in e.reason and "edits" in e.reason for e in rejected)
    assert not any(isinstance(e, CandidateEvent) for e in result.state.history)
    assert result.plan.node("answer").kind == "llm"  # the seed plan stands
    from sgde.compiler.report import NO_STUDENT, render_report
    assert NO_STUDENT not in render_report(result)  # the student still runs: no warning


def test_of_two_candidates_that_tie_the_first_is_kept_and_the_second_is_told_why(tmp_path, tiny_student, sandboxes,
                                                                                monkeypatch):
    monkeypatch.setenv("SCRIPTED_TEACHER_MODE", "tie")
    result = _compile(tmp_path, tiny_student, sandboxes, max_teacher_calls=1)
    first, second = sorted((e for e in result.state.history if isinstance(e, CandidateEvent)),
                           key=lambda e: e.candidate)
    assert (first.candidate, first.event, first.reason) == (1, "accepted", None)
    assert (second.candidate, second.event) == (2, "rejected") and second.score == first.score
    assert "candidate 1 scored the same and came first" in second.reason and "better" not in second.reason


def test_budget_stops_are_named(tmp_path, tiny_student, sandboxes):
    result = _compile(tmp_path, tiny_student, sandboxes, max_teacher_calls=1)
    assert result.state.stop == "budget: 1 teacher calls used"
    assert "budget" in result.plan.provenance.notes


def test_usd_budget_stops_the_compile_and_is_reported(tmp_path, tiny_student, sandboxes, monkeypatch):
    monkeypatch.setenv("SCRIPTED_TEACHER_USD", "0.75")
    result = _compile(tmp_path, tiny_student, sandboxes, max_usd=0.5)
    assert result.state.stop == "budget: USD 0.7500 of 0.5 spent"
    assert result.state.teacher_calls == 1 and result.state.usage.input_tokens == 1000
    from sgde.compiler.report import render_report
    assert "USD: 0.7500" in render_report(result)


def test_killed_compile_resumes_without_repeating_a_teacher_call(tmp_path, tiny_model_path):
    log = tmp_path / "answered.log"
    env = {**os.environ, "SCRIPTED_TEACHER_LOG": str(log), "SCRIPTED_TEACHER_KILL_AFTER": "2",
           "SCRIPTED_TEACHER_TRANSCRIPT": str(tmp_path / "run" / "transcript.jsonl")}
    args = [sys.executable, "-m", "sgde.compiler.cli", "compile", str(TASK), "--examples", str(EXAMPLES),
            "--model", str(tiny_model_path), "--teacher", TEACHER, "--out", "plan.yaml", "--run-dir", "run"]
    killed = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert killed.returncode == -9, killed.stderr
    assert not (tmp_path / "plan.yaml").exists()
    checkpoints = sorted((tmp_path / "run").glob("checkpoint-*.json"))
    # killed between recording answer 2 and finishing iteration 2
    assert json.loads(checkpoints[-1].read_text())["teacher_calls"] == 1
    assert len((tmp_path / "run" / "transcript.jsonl").read_text().splitlines()) == 2

    env.pop("SCRIPTED_TEACHER_KILL_AFTER")
    resumed = subprocess.run(args + ["--resume"], capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming at iteration 1" in resumed.stderr
    answered = log.read_text().split()
    assert len(answered) == 2 and len(set(answered)) == 2  # no request was answered twice
    plan = yaml.safe_load((tmp_path / "plan.yaml").read_text())
    assert plan["provenance"]["notes"].endswith("converged: every example passes in every sample")


def test_local_teacher_compile_of_a_family_runs_to_the_end(tmp_path, tiny_model_path):
    """The tiny model teaches itself: its edits are poor, but the loop must take them, verify,
    reject or accept, and finish with a plan and a named stop."""
    family = Path(__file__).resolve().parent.parent / "examples" / "families" / "gsmhard-0230.yaml"
    task = Path(__file__).resolve().parent.parent / "examples" / "gsmhard" / "task.yaml"
    sample = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "family", "sample", str(family), "--n", "3",
                             "--seed", "1"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert sample.returncode == 0, sample.stderr
    (tmp_path / "train.jsonl").write_text(sample.stdout)
    done = subprocess.run(
        [sys.executable, "-m", "sgde.compiler.cli", "compile", str(task), "--examples", "train.jsonl", "--m", "3",
         "--teacher", f"local:{tiny_model_path}", "--model", str(tiny_model_path), "--out", "plan.yaml",
         "--max-teacher-calls", "1", "--samples", "1"],
        capture_output=True, text=True, timeout=1800, cwd=tmp_path,
        env={**os.environ, "SGDE_TEACHER_N_CTX": "8192", "SGDE_TEACHER_MAX_TOKENS": "384"})
    assert done.returncode == 0, done.stderr[-3000:]
    plan = load_plan(tmp_path / "plan.yaml")
    assert plan.provenance.teacher == f"local:{tiny_model_path}"
    assert plan.provenance.notes.split("; ")[-1].startswith(("budget", "stalled", "converged"))
    calls = [json.loads(line) for line in (tmp_path / "plan.run" / "transcript.jsonl").read_text().splitlines()]
    assert len(calls) == 1 and calls[0]["request"]["kind"] == "critique"
    assert calls[0]["reply"]["usage"]["output_tokens"] <= 384
    report = (tmp_path / "plan.report.md").read_text()
    assert "## Score per iteration" in report


def test_a_usd_budget_with_a_teacher_that_reports_no_cost_is_an_error(tmp_path, tiny_student, sandboxes):
    """--max-usd fails closed: a reply without a price would count as $0 and the budget could never trip."""
    with pytest.raises(CompileError) as refused:
        _compile(tmp_path, tiny_student, sandboxes, max_usd=0.5)
    assert refused.value.field == "max_usd" and "reported no cost" in refused.value.message


def test_a_usd_budget_with_an_unpriced_anthropic_model_is_refused_before_any_call(tmp_path, tiny_student, sandboxes):
    from sgde.compiler.teachers.anthropic_teacher import AnthropicTeacher
    teacher = AnthropicTeacher("claude-unknown-model-9", api_key="sk-test", base_url="http://127.0.0.1:9")
    task = load_task(TASK)
    with pytest.raises(CompileError, match="cost is known"):
        run_compile(task=task, seed=seed_plan(task, TASK), examples=load_examples(EXAMPLES, task, 3), teacher=teacher,
                    student=tiny_student, policy=load_policy("default"), sandboxes=sandboxes, run_dir=tmp_path / "r",
                    options=CompileOptions(max_usd=1.0))
    assert not (tmp_path / "r").exists()


# --- the file-drop relay learns how the compile ended ------------------------------------

def _scripted_replies():
    import importlib.util
    spec = importlib.util.spec_from_file_location("scripted_teacher", FIXTURES / "scripted_teacher.py")
    scripted = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scripted)
    return scripted.reply


def test_the_relay_teacher_reads_the_compiles_outcome(tmp_path, tiny_model_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    reply = _scripted_replies()
    for n in (1, 2):  # answers dropped ahead of the requests: the relay finds each at once
        (drop / f"response-{n}.json").write_text(json.dumps(reply(n)))
    relay = f"command:{sys.executable} -m sgde.compiler.teachers.relay --dir {drop}"
    args = [sys.executable, "-m", "sgde.compiler.cli", "compile", str(TASK), "--examples", str(EXAMPLES),
            "--model", str(tiny_model_path), "--teacher", relay, "--out", "plan.yaml"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in drop.glob("request-*.json")) == ["request-1.json", "request-2.json"]
    outcome = json.loads((drop / "outcome.json").read_text())
    assert outcome["status"] == "finished" and outcome["converged"] is True and outcome["error"] is None
    assert outcome["stop"] == "converged: every example passes in every sample"
    assert (outcome["iterations"], outcome["teacher_calls"]) == (2, 2)
    assert outcome["score"]["correct"] == outcome["score"]["total"] == 6
    assert [(c["iteration"], c["candidate"]) for c in outcome["accepted"]] == [(1, 3), (2, 3)]
    verdicts = {(c["iteration"], c["candidate"]): c for c in outcome["candidates"]}
    assert len(verdicts) == 6 and verdicts[1, 1]["verdict"] == "rejected" and verdicts[1, 1]["score"] is None
    assert "static audit refused" in verdicts[1, 1]["reason"]
    assert "not better" in verdicts[2, 1]["reason"] and verdicts[2, 1]["score"]["total"] == 6
    assert [row["iteration"] for row in outcome["score_history"]] == [0, 1, 2]
    where = {key: Path(outcome[key]) for key in ("plan", "report", "run_dir")}
    assert all(path.is_absolute() for path in where.values())  # the teacher reads them from its own folder
    assert where == {key: (tmp_path / name).resolve() for key, name in
                     (("plan", "plan.yaml"), ("report", "plan.report.md"), ("run_dir", "plan.run"))}
    assert outcome["plan_hash"] == load_plan(tmp_path / "plan.yaml").content_hash()

    # a compile that fails says so, with the error, and never passes off an earlier compile's state as its own
    failed = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert failed.returncode == 2 and "--resume" in failed.stderr
    outcome = json.loads((drop / "outcome.json").read_text())
    assert outcome["status"] == "failed" and outcome["stop"] is None and outcome["converged"] is False
    assert outcome["error"]["type"] == "compile_error" and "--resume" in outcome["error"]["message"]
    assert outcome["accepted"] == [] and outcome["plan"] is None and outcome["teacher_calls"] == 0
