"""The compiler's parts without a model: edits, the static audit, property tests, teachers' protocols."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sgde.compiler.audit import audit_expression, audit_source
from sgde.compiler.edits import Candidate, CritiqueReply, EditRejected, apply_candidate
from sgde.compiler.errors import (
    CodeRejected,
    ReplayMismatch,
    TeacherError,
    TeacherProtocolError,
    TeacherReplyInvalid,
    TeacherUnavailable,
)
from sgde.compiler.properties import check_properties
from sgde.compiler.teachers import TeacherRequest, TranscriptTeacher, load_transcript, make_teacher, validate_reply
from sgde.compiler.teachers.command import CommandTeacher
from sgde.compiler.teachers.transcript import recorded_threads
from sgde.runtime.plan import Properties
from sgde.runtime.plan_io import parse_plan
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import make_backend

SEED = {
    "name": "t", "inputs": {"question": {"type": "string"}}, "output": {"from": "answer", "type": "number"},
    "nodes": [{"id": "answer", "kind": "llm", "reads": ["question"], "user": "{question}",
               "parser": {"kind": "number"}}],
}
ADD = "def run(inputs):\n    return {'sum': inputs['pair']['a'] + inputs['pair']['b']}\n"
PAIR = {"pair": {"type": "object", "fields": {"a": {"type": "integer", "min": -10**12, "max": 10**12},
                                               "b": {"type": "integer", "min": -10**12, "max": 10**12}}}}


@pytest.fixture(scope="module")
def backend():
    sandbox = make_backend("restricted")
    yield sandbox
    sandbox.close()


def candidate(*edits):
    return Candidate.model_validate({"rationale": "test", "edits": list(edits)})


# --- edits ----------------------------------------------------------------------------

def test_offload_and_consensus_and_insert_apply_to_a_valid_plan():
    plan = parse_plan(SEED)
    split = apply_candidate(plan, candidate(
        {"op": "insert_node", "node": {"id": "extract", "kind": "llm", "reads": ["question"], "user": "{question}",
                                       "parser": {"kind": "json", "schema": {"type": "object"}},
                                       "grammar": {"from_json_schema": True}}},
        {"op": "replace_node", "node": {"id": "answer", "kind": "code", "reads": ["extract"], "source": ADD},
         "properties": {"inputs": {"extract": PAIR["pair"]}}},
        {"op": "set_output", "from": "answer.sum"},
        {"op": "wrap_consensus", "node": "extract", "n": 3, "aggregator": {"kind": "majority"}}))
    assert [n.id for n in split.nodes] == ["extract", "answer"]
    assert split.node("extract").kind == "consensus" and split.node("extract").child.sampling.temperature == 0.7
    assert split.node("answer").properties.inputs["extract"].type == "object"
    assert split.output.source == "answer.sum"


@pytest.mark.parametrize("edits, where", [
    ([{"op": "rewrite_prompt", "node": "nope", "system": "x"}], "no node 'nope'"),
    ([{"op": "remove_node", "node": "answer"}], "still read by ['the plan output']"),
    ([{"op": "rewrite_prompt", "node": "answer", "user": "{other}"}], "does not read"),
    ([{"op": "insert_node", "node": {"id": "answer", "kind": "llm", "reads": [], "user": "x"}}], "replace_node"),
    ([{"op": "replace_node", "node": {"id": "answer", "kind": "code", "reads": ["question"], "source": ADD}}],
     "needs properties"),
])
def test_bad_edits_are_rejected_naming_the_edit(edits, where):
    with pytest.raises(EditRejected) as caught:
        apply_candidate(parse_plan(SEED), candidate(*edits))
    assert where in caught.value.message and caught.value.node in ("answer", "nope")


def test_reply_validation_names_the_field():
    with pytest.raises(TeacherReplyInvalid) as caught:
        validate_reply({"critiques": [], "candidates": [{"rationale": "r", "edits": [{"op": "explode"}]}]},
                       CritiqueReply)
    assert caught.value.field.startswith("candidates.0.edits.0")


# --- the static audit ------------------------------------------------------------------

@pytest.mark.parametrize("source, rule", [
    ("import os\ndef run(inputs):\n    return {}\n", "import of 'os'"),
    ("def run(inputs):\n    return {'x': ().__class__}\n", "'__class__'"),
    ("def run(inputs):\n    return {'x': eval('1')}\n", "'eval'"),
    ("class A:\n    pass\ndef run(inputs):\n    return {}\n", "ClassDef"),
    ("def run(inputs):\n    with open('f') as f:\n        return {}\n", "With"),
    ("def helper(inputs):\n    return {}\n", "no top-level function run()"),
    ("def run(inputs:\n", "syntax error"),
])
def test_audit_refuses_with_the_line_and_rule(source, rule):
    with pytest.raises(CodeRejected) as caught:
        audit_source(source, allowed_imports=("math", "re"), node="n")
    assert rule in caught.value.message and caught.value.node == "n" and "line" in caught.value.message


def test_audit_passes_plain_code_and_keeps_bandit_low_findings():
    report = audit_source("import random\ndef run(inputs):\n    assert inputs\n    return {'x': random.random()}\n",
                          allowed_imports=("random",), node="n")
    assert {f.rule for f in report.findings} >= {"B101", "B311"} and not report.blocking


def test_audit_of_invariants_allows_expressions_only():
    audit_expression("output['x'] >= inputs['a']", node="n")
    with pytest.raises(CodeRejected):
        audit_expression("__import__('os').system('x')", node="n")


# --- property tests ----------------------------------------------------------------------

def test_properties_pass_for_correct_code_and_are_deterministic(backend):
    props = Properties.model_validate({"inputs": PAIR, "invariants": [
        "output['sum'] - inputs['pair']['b'] == inputs['pair']['a']"],
        "examples": [{"inputs": {"pair": {"a": 2, "b": 3}}, "output": {"sum": 5}}], "max_examples": 30})
    first = check_properties(ADD, props, reads=["pair"], backend=backend, policy=load_policy("default"), node="n")
    assert first == check_properties(ADD, props, reads=["pair"], backend=backend, policy=load_policy("default"),
                                     node="n") == 30


@pytest.mark.parametrize("spec, field, words", [
    ({"inputs": PAIR, "invariants": ["output['sum'] > inputs['pair']['a']"]}, "properties.invariants", "is false"),
    ({"inputs": PAIR, "examples": [{"inputs": {"pair": {"a": 1, "b": 1}}, "output": {"sum": 3}}]},
     "properties.examples", "expected"),
    ({"inputs": {"other": {"type": "integer", "min": 0, "max": 1}}}, "properties.inputs", "one strategy per read"),
    ({"inputs": {"pair": {"type": "integer", "min": 0, "max": 1}}}, "source", "failed"),
    ({"inputs": PAIR, "invariants": ["[x for x in ().__class__.__bases__]"]}, "properties.invariants", "refused"),
])
def test_property_failures_reject_the_code_with_the_reason(backend, spec, field, words):
    with pytest.raises(CodeRejected) as caught:
        check_properties(ADD, Properties.model_validate(spec), reads=["pair"], backend=backend,
                         policy=load_policy("default"), node="n")
    assert caught.value.field == field and words in caught.value.message


def test_a_runaway_program_is_stopped_by_the_sandbox_not_the_test(backend):
    props = Properties.model_validate({"inputs": PAIR, "max_examples": 3})
    with pytest.raises(CodeRejected) as caught:
        check_properties("def run(inputs):\n    while True:\n        pass\n", props, reads=["pair"],
                         backend=backend, policy=load_policy("strict"), node="n")
    assert "cpu_seconds" in caught.value.message or "wall_seconds" in caught.value.message


# --- teachers: command, transcript, spec -----------------------------------------------

REQUEST = TeacherRequest(kind="critique", instructions="do it", response_schema={"type": "object"},
                         payload={"x": 1})


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "teacher.py"
    path.write_text("import json, sys\nrequest = json.load(sys.stdin)\n" + body)
    return f"{sys.executable} {path}"


def test_command_teacher_round_trip_and_usage_wrapper(tmp_path):
    teacher = CommandTeacher(script(tmp_path, "print(json.dumps({'response': {'echo': request['payload']['x']},"
                                              " 'usage': {'input_tokens': 7, 'usd': 0.5}}))"))
    reply = teacher.ask(REQUEST)
    assert reply.data == {"echo": 1} and reply.usage.input_tokens == 7 and reply.usage.usd == 0.5


@pytest.mark.parametrize("body, error, words", [
    ("sys.exit(3)", TeacherProtocolError, "status 3"),
    ("print('not json')", TeacherProtocolError, "did not print JSON"),
    ("print('[1, 2]')", TeacherProtocolError, "not a JSON object"),
])
def test_command_teacher_errors_are_typed(tmp_path, body, error, words):
    with pytest.raises(error) as caught:
        CommandTeacher(script(tmp_path, body)).ask(REQUEST)
    assert words in caught.value.message


def test_command_teacher_timeout_and_missing_program(tmp_path):
    with pytest.raises(TeacherUnavailable, match="within 0.5 s"):
        CommandTeacher(script(tmp_path, "import time\ntime.sleep(5)"), timeout_s=0.5).ask(REQUEST)
    with pytest.raises(TeacherUnavailable, match="not found"):
        CommandTeacher("/nonexistent/teacher").ask(REQUEST)


def test_transcript_records_replays_and_shows_a_difference(tmp_path):
    live = CommandTeacher(script(tmp_path, "print(json.dumps({'n': request['payload']['x']}))"))
    recorder = TranscriptTeacher([], live=live, record_to=tmp_path / "t.jsonl")
    assert recorder.ask(REQUEST).data == {"n": 1}
    recorder.close()
    # a kill mid-write leaves a torn line: it is dropped, never misread
    with open(tmp_path / "t.jsonl", "a") as handle:
        handle.write('{"call": 2, "requ')
    replay = make_teacher(f"replay:{tmp_path / 't.jsonl'}")
    assert replay.ask(REQUEST).data == {"n": 1}
    with pytest.raises(ReplayMismatch, match="ends after 1 calls"):
        replay.ask(REQUEST)
    other = make_teacher(f"replay:{tmp_path / 't.jsonl'}")
    with pytest.raises(ReplayMismatch) as caught:
        other.ask(REQUEST.model_copy(update={"payload": {"x": 2}}))
    assert '-  "x": 1' in caught.value.message and '+  "x": 2' in caught.value.message
    assert len(load_transcript(tmp_path / "t.jsonl")) == 1


BUILD = {"n_threads": 2, "llama_cpp_python": "0.3.36",
         "system_info": "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | OPENMP = 1 |"}


def _recorded(tmp_path, build):
    """A transcript of one call (REQUEST answered), recorded with ``build`` as the student's."""
    live = CommandTeacher(script(tmp_path, "print(json.dumps({'n': request['payload']['x']}))"))
    recorder = TranscriptTeacher([], live=live, record_to=tmp_path / "t.jsonl", student_build=build)
    recorder.ask(REQUEST)
    recorder.close()
    return load_transcript(tmp_path / "t.jsonl")


def test_transcript_records_the_student_build_and_a_replay_names_what_differs(tmp_path):
    calls = _recorded(tmp_path, BUILD)
    assert list(calls[0]) == ["call", "teacher", "student_build", "request", "reply"]
    assert calls[0]["student_build"] == BUILD and recorded_threads(calls) == 2

    here = {**BUILD, "n_threads": 4, "llama_cpp_python": "0.3.40",
            "system_info": BUILD["system_info"].replace("AVX512 = 0", "AVX512 = 1")}
    replay = TranscriptTeacher(calls, student_build=here)
    with pytest.raises(ReplayMismatch) as caught:
        replay.ask(REQUEST.model_copy(update={"payload": {"x": 2}}))
    message = caught.value.message
    assert "thread count 2 recorded, 4 here" in message
    assert "llama-cpp-python 0.3.36 recorded, 0.3.40 here" in message
    assert "system info: recorded AVX512 = 0; here AVX512 = 1" in message and "AVX2" not in message.split("\n")[0]
    assert '+  "x": 2' in message  # and the difference itself

    same = TranscriptTeacher(calls, student_build=dict(BUILD))
    with pytest.raises(ReplayMismatch, match="build matches the recording's \\(2 threads, llama-cpp-python 0.3.36"):
        same.ask(REQUEST.model_copy(update={"payload": {"x": 2}}))
    assert same.ask(REQUEST).data == {"n": 1} and same.build_of_call(0) == BUILD


def test_a_replay_with_other_limits_is_told_the_recorded_options(tmp_path):
    budget = {"teacher_call": 1, "max_teacher_calls": 6, "iterations_without_acceptance": 0, "patience": 3}
    recorded = REQUEST.model_copy(update={"payload": {"x": 1, "budget": budget}})
    live = CommandTeacher(script(tmp_path, "print(json.dumps({'n': request['payload']['x']}))"))
    recorder = TranscriptTeacher([], live=live, record_to=tmp_path / "t.jsonl", student_build=BUILD)
    recorder.ask(recorded)
    recorder.close()
    calls = load_transcript(tmp_path / "t.jsonl")
    default = recorded.model_copy(update={"payload": {"x": 1, "budget": {**budget, "max_teacher_calls": 8}}})
    with pytest.raises(ReplayMismatch) as caught:
        TranscriptTeacher(calls, student_build=BUILD).ask(default)
    assert "--max-teacher-calls 6 recorded, 8 here" in caught.value.message
    assert "replay with --max-teacher-calls 6 --patience 3" in caught.value.message
    assert "--patience 3 recorded" not in caught.value.message
    # a budget that differs only in where the compile stands is no options' fault: the build is named instead
    later = recorded.model_copy(update={"payload": {"x": 1, "budget": {**budget, "teacher_call": 2}}})
    with pytest.raises(ReplayMismatch, match="build matches the recording's"):
        TranscriptTeacher(calls, student_build=BUILD).ask(later)
    assert TranscriptTeacher(calls, student_build=BUILD).ask(recorded).data == {"n": 1}


def test_a_replayed_call_is_recorded_with_the_build_it_was_made_with(tmp_path):
    calls = _recorded(tmp_path, BUILD)
    replay = TranscriptTeacher(calls, student_build={**BUILD, "system_info": "another machine"})
    copy = TranscriptTeacher([], live=replay, record_to=tmp_path / "copy.jsonl", student_build=replay.student_build)
    copy.ask(REQUEST)
    copy.close()
    assert load_transcript(tmp_path / "copy.jsonl") == calls and copy.build_of_call(0) == BUILD


def test_transcripts_without_a_build_still_replay_and_say_the_build_is_unknown(tmp_path):
    calls = _recorded(tmp_path, None)
    assert "student_build" not in calls[0] and recorded_threads(calls) is None
    old = TranscriptTeacher(calls, student_build=BUILD)
    with pytest.raises(ReplayMismatch, match="records no student build"):
        old.ask(REQUEST.model_copy(update={"payload": {"x": 2}}))
    assert old.ask(REQUEST).data == {"n": 1} and old.build_of_call(0) is None


@pytest.mark.parametrize("build", [{"n_threads": 0}, {"n_threads": "2"}, "2 threads", {"llama_cpp_python": "x"}])
def test_a_malformed_student_build_in_a_transcript_is_refused(tmp_path, build):
    call = {"call": 1, "teacher": "t", "student_build": build, "request": REQUEST.model_dump(mode="json"),
            "reply": {"data": {}}}
    (tmp_path / "t.jsonl").write_text(json.dumps(call) + "\n" + json.dumps(call) + "\n")
    with pytest.raises(TeacherProtocolError, match="line 1: student_build") as caught:
        load_transcript(tmp_path / "t.jsonl")
    assert caught.value.field == "transcript"


def test_the_student_build_is_in_the_plan_hash_only_when_set():
    from sgde.runtime.plan_io import dumps_yaml
    doc = {"name": "p", "inputs": {"q": {"type": "string"}}, "output": {"from": "n.x", "type": "number"},
           "nodes": [{"id": "n", "kind": "code", "reads": ["q"], "source": "def run(inputs):\n    return {'x': 1}\n"}],
           "provenance": {"student_model": "m.gguf", "teacher": "command:t"}}
    plain = parse_plan(doc)
    assert plain.provenance.student_build is None and "student_build" not in dumps_yaml(plain)
    # unset, it is not in the canonical JSON the hash is taken of: a plan keeps the hash it had before the field
    assert "student_build" not in plain.model_dump(mode="json", exclude_none=True)["provenance"]
    built = parse_plan({**doc, "provenance": {**doc["provenance"], "student_build": BUILD}})
    assert built.provenance.student_build == BUILD and built.content_hash() != plain.content_hash()
    text = dumps_yaml(built)
    assert text.index("student_model:") < text.index("student_build:") < text.index("teacher:")


# --- the loop's history: typed events, serialised as they always were ---------------------

def test_history_events_serialise_with_the_keys_and_order_the_loop_always_wrote():
    from sgde.compiler.history import (
        CandidateEvent,
        CritiqueEvent,
        ReplyRejectedEvent,
        ScoreSummary,
        SeedEvent,
        parse_history,
    )
    from sgde.compiler.verify import CodeVerdict

    score = ScoreSummary(correct=1, total=2, tokens=30)
    seed = SeedEvent(iteration=0, event="seed", score=score)
    assert json.dumps(seed.to_json()) == '{"iteration": 0, "event": "seed", "score": {"correct": 1, "total": 2, ' \
                                         '"tokens": 30}}'
    refused = CandidateEvent(iteration=1, candidate=2, rationale="r", edits=["offload_to_code(a)"], event="rejected",
                             reason="audit")
    assert list(refused.to_json()) == ["iteration", "candidate", "rationale", "edits", "event", "reason"]
    verdict = CodeVerdict(node="a", sha256="0" * 64, draws=3, examples=1, notes=("n",))
    lost = CandidateEvent(iteration=1, candidate=1, rationale="r", edits=["e"], score=score, verified_code=[verdict],
                          event="rejected", failures=[{"example": "x", "error": None}], reason="not better")
    assert list(lost.to_json()) == ["iteration", "candidate", "rationale", "edits", "score", "verified_code", "event",
                                    "failures", "reason"]
    assert lost.to_json()["verified_code"] == [verdict.model_dump()]
    assert lost.to_json()["failures"] == [{"example": "x", "error": None}]  # None inside a failure stays
    events = [seed, ReplyRejectedEvent(iteration=1, event="reply_rejected", reason="bad"),
              CritiqueEvent(iteration=1, event="critique", node="a", critique="c", direction="d"), refused, lost]
    assert parse_history(json.loads(json.dumps([e.to_json() for e in events]))) == events
    with pytest.raises(ValueError):
        parse_history([{"iteration": 1, "event": "accepted", "candidate": 1}])  # no rationale, no edits


# --- the file-drop relay ----------------------------------------------------------------

@pytest.mark.parametrize("spec, folder", [
    ("command:python -m sgde.compiler.teachers.relay --dir /tmp/drop", "/tmp/drop"),
    ("command:python3 -m sgde.compiler.teachers.relay --timeout 9 --dir=drop b", "drop"),
    ("command:python -m sgde.compiler.teachers.relay", None),
    ("command:python other.py --dir /tmp/drop", None),
    ("replay:/tmp/drop/t.jsonl", None),
    ("anthropic:claude-sonnet-4", None),
])
def test_the_relays_folder_is_found_only_in_a_relay_command(spec, folder):
    from sgde.compiler.teachers.relay import relay_dir
    assert relay_dir(spec) == (Path(folder) if folder else None)


def test_the_outcome_is_written_whole_beside_the_requests(tmp_path):
    from sgde.compiler.loop import CompileOutcome
    from sgde.compiler.teachers.relay import write_outcome
    outcome = CompileOutcome(status="failed", error={"type": "teacher_unavailable", "message": "no"},
                             run_dir="r")
    path = write_outcome(tmp_path / "drop", outcome.model_dump(mode="json"))
    assert path == tmp_path / "drop" / "outcome.json" and [p.name for p in (tmp_path / "drop").iterdir()] == [
        "outcome.json"]
    assert CompileOutcome.model_validate_json(path.read_text()) == outcome


@pytest.mark.parametrize("spec", ["nope", "ftp:x", "command:"])
def test_bad_teacher_specs_name_the_field(spec):
    with pytest.raises(TeacherError) as caught:
        make_teacher(spec)
    assert caught.value.field == "teacher"


def test_the_response_schema_is_plain_json_schema():
    schema = CritiqueReply.model_json_schema()
    json.dumps(schema)
    assert {"critiques", "candidates"} <= set(schema["properties"])


# --- task and examples ------------------------------------------------------------------

def test_examples_errors_name_the_line_and_extra_keys_are_ignored(tmp_path):
    from sgde.compiler.errors import CompileError
    from sgde.compiler.task import load_examples, load_task, seed_plan
    task_path = Path(__file__).parent / "fixtures" / "compile" / "arith_task.yaml"
    task = load_task(task_path)
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "a", "input": {"question": "q", "extra": 1}, "answer": 3}\n')
    assert load_examples(good, task, 1)[0].input == {"question": "q"}
    with pytest.raises(CompileError, match="has 1 examples, 3 asked for"):
        load_examples(good, task, 3)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "input": {"question": "q"}, "answer": 3}\n{"id": "b", "input": {}, "answer": 1}\n')
    with pytest.raises(CompileError, match="line 2: input lacks"):
        load_examples(bad, task, 2)
    bad.write_text('{"id": "a", "input": {"question": "q"}, "answer": "many"}\n')
    with pytest.raises(CompileError, match="line 1"):
        load_examples(bad, task, 1)
    plan = seed_plan(task, task_path)
    assert [n.id for n in plan.nodes] == ["answer"] and plan.output.source == "answer"
    (tmp_path / "task.yaml").write_text("sgde_task: 1\nname: x\ninputs: {}\nbogus: 1\n")
    with pytest.raises(CompileError) as caught:
        load_task(tmp_path / "task.yaml")
    assert caught.value.field == "bogus"
