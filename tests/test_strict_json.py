"""JSON that breaks a `strict_json` rule (nested past MAX_DEPTH, NaN/Infinity, a number out of range, an integer
longer than Python converts) is refused at every door, with an error that names the file, the line or the
input: 1,000 "[" or a 5,000-digit integer used to end `sgde run` in a traceback from inside json, and a value
just under Python's stack got in and broke the next walk over it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sgde.compiler.errors import TeacherProtocolError
from sgde.compiler.teachers.base import TeacherReply, TeacherRequest
from sgde.compiler.teachers.command import CommandTeacher
from sgde.compiler.teachers.transcript import TranscriptTeacher, load_transcript
from sgde.runtime import strict_json
from sgde.runtime.errors import InputError, OutputParseError, PlanError
from sgde.runtime.executor import Executor
from sgde.runtime.jsonl import read_json_objects
from sgde.runtime.parsers import parse_json
from sgde.runtime.plan_io import loads_plan, parse_plan
from sgde.runtime.sandbox.runner import execute as runner_execute
from sgde.runtime.yaml_load import load_yaml
from tests.test_compile_parts import REQUEST, script

LIMIT = strict_json.MAX_DEPTH
# json.loads takes the first three; the integer it refuses with a bare ValueError from inside its scanner
NOT_STRICT = ["[NaN]", "[-Infinity]", "[1e999]", "[" + "9" * 5000 + "]"]
HUGE = 100_000  # far past Python's recursion limit


def brackets(levels: int, inner: str = "") -> str:
    return "[" * levels + inner + "]" * levels


def nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


COUNT_PLAN = {"name": "count", "inputs": {"items": {"type": "array"}},
              "output": {"from": "count.n", "type": "integer"},
              "nodes": [{"id": "count", "kind": "code", "reads": ["items"],
                         "source": "def run(inputs):\n    return {'n': len(inputs['items'])}\n"}]}


# --- the bound itself -----------------------------------------------------------------------------------

@given(st.integers(min_value=0, max_value=3 * LIMIT), st.sampled_from(["[]", "{}"]))
def test_loads_refuses_exactly_what_nests_past_the_limit(levels, kind):
    text = "1"
    for _ in range(levels):
        text = f"[{text}]" if kind == "[]" else f'{{"k": {text}}}'
    if levels > LIMIT:
        with pytest.raises(strict_json.TooDeep, match=f"more than {LIMIT} levels"):
            strict_json.loads(text)
        with pytest.raises(strict_json.TooDeep):
            strict_json.loads(text.encode())
    else:
        assert strict_json.loads(text) == json.loads(text)
    assert isinstance(strict_json.problem(json.loads(text)), strict_json.TooDeep) is (levels > LIMIT)


def test_past_pythons_stack_is_too_deep_not_a_recursion_error():
    with pytest.raises(strict_json.TooDeep):
        strict_json.loads(brackets(HUGE))


def test_a_cyclic_value_is_too_deep_and_the_walk_ends():
    loop: list = []
    loop.append(loop)
    cyclic: dict = {}
    cyclic["self"] = cyclic
    assert isinstance(strict_json.problem(loop), strict_json.TooDeep)
    assert isinstance(strict_json.problem(cyclic), strict_json.TooDeep)
    assert strict_json.problem(("a", [1, {"b": 2.5}], True, None, 10**4300 - 1, "é" * 10_000)) is None


@pytest.mark.parametrize("value, words", [
    ({"k": "a \ud800 b"}, "lone surrogate"), ({"\udcff": 1}, "lone surrogate"), ([float("nan")], "nan is not"),
    ([1, [float("-inf")]], "-inf is not"), (10**4300, "more than 4300 digits"),
], ids=["string", "key", "nan", "inf", "int"])
def test_a_value_in_memory_meets_the_same_rules(value, words):
    assert words in str(strict_json.problem(value))


def test_escaped_surrogates_must_pair():
    assert strict_json.loads('"\\ud83d\\ude00"') == "\U0001F600"  # a pair is one character
    for text in ('"\\ud800"', '{"\\udfff": 1}', '["ok", "\\ude00\\ud83d"]'):
        with pytest.raises(strict_json.NotStrictJson, match="lone surrogate"):
            strict_json.loads(text)


def test_the_sandbox_protocol_may_carry_lone_surrogates():
    # any Python string crosses to and from a sandbox (tests/redteam/legit_surrogate_text.py); the doors
    # refuse them, the protocol keeps the other rules
    assert strict_json.loads('{"s": "a\\udc80"}', lone_surrogates=True) == {"s": "a\udc80"}
    with pytest.raises(strict_json.TooDeep):
        strict_json.loads(brackets(LIMIT + 1), lone_surrogates=True)


def test_the_sandbox_runner_keeps_the_same_limits_on_results():
    # the runner cannot import the host's module; a value any node may read could be a node's result
    assert runner_execute.MAX_DEPTH == strict_json.MAX_DEPTH
    assert runner_execute.MAX_INT_DIGITS == strict_json.MAX_INT_DIGITS == sys.get_int_max_str_digits()


@pytest.mark.parametrize("text", NOT_STRICT)
def test_numbers_outside_json_or_past_pythons_integer_limit_are_refused(text):
    with pytest.raises(strict_json.NotStrictJson) as caught:
        strict_json.loads(text)
    assert caught.value.limit == ("int_digits" if "9" * 5000 in text else None)


def test_numbers_inside_the_limits_are_read_as_json_reads_them():
    text = "[" + "9" * 4300 + ", -1.5e300, 0, 2.5]"
    assert strict_json.loads(text) == json.loads(text)


# --- documents: plans, policies, tasks, families --------------------------------------------------------

def test_yaml_refuses_nesting_past_the_limit_at_its_line():
    assert load_yaml("x: " + brackets(LIMIT - 1)) == {"x": nested(LIMIT - 1)}
    for text in ("a: 1\nx: " + brackets(LIMIT), brackets(HUGE)):
        with pytest.raises(yaml.YAMLError, match=f"more than {LIMIT} levels deep") as caught:
            load_yaml(text)
        assert caught.value.problem_mark.line == text.count("\n")


def test_yaml_block_style_nesting_is_refused_too():
    text = "".join(f"{'  ' * level}k{level}:\n" for level in range(LIMIT + 1)) + "  " * (LIMIT + 1) + "v\n"
    with pytest.raises(yaml.YAMLError, match="levels deep"):
        load_yaml(text)


@pytest.mark.parametrize("json_format", [False, True])
def test_a_plan_file_nested_too_deeply_is_a_plan_error(json_format):
    text = f'{{"sgde_plan": 1, "name": "p", "x": {brackets(HUGE)}}}'
    with pytest.raises(PlanError, match="levels deep"):
        loads_plan(text, json_format=json_format)


@pytest.mark.parametrize("text, words", [
    ("a: 2024-01-01", "a date is not a JSON value"), ("a: .nan", "nan is not a JSON number"),
    ("a: !!binary aGk=", "a bytes is not a JSON value"), ('a: "x \\ud800"', "lone surrogate"),
])
def test_yaml_holds_only_what_json_can(text, words):
    with pytest.raises(yaml.YAMLError, match=words):
        load_yaml(text)
    assert load_yaml('a: ["2024-01-01", 1.5, null, true]') == {"a": ["2024-01-01", 1.5, None, True]}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_sgde_validate_names_a_lone_surrogate_in_a_plan(tmp_path, suffix):
    # it crashed with a UnicodeEncodeError traceback when the plan was hashed
    plan = tmp_path / f"plan{suffix}"
    plan.write_text(json.dumps(dict(COUNT_PLAN, description="bad \ud800 text")))  # JSON is YAML too
    done = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "validate", str(plan)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "a string with a lone surrogate is not text" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_plan_built_in_code_meets_the_same_limit():
    data = dict(COUNT_PLAN, description=nested(LIMIT + 1))
    with pytest.raises(PlanError, match="levels deep") as caught:
        parse_plan(data)
    assert caught.value.limit == "max_depth"


# --- inputs -----------------------------------------------------------------------------------------------

def test_input_files_name_the_file_and_line(tmp_path):
    path = tmp_path / "inputs.jsonl"
    path.write_text('{"items": []}\n' + json.dumps({"items": "@"}).replace('"@"', brackets(HUGE)) + "\n")
    rows = read_json_objects(path, field="input-file")
    assert next(rows) == (1, {"items": []})
    with pytest.raises(InputError, match=r"inputs.jsonl:2: nested more than") as caught:
        next(rows)
    assert caught.value.field == "input-file" and caught.value.limit == "max_depth"
    for text in NOT_STRICT:
        path.write_text('{"items": ' + text + "}\n")
        with pytest.raises(InputError, match=r"inputs.jsonl:1: .*(not a JSON number|out of range|digits)"):
            next(read_json_objects(path, field="input-file"))


def test_executor_refuses_a_deep_or_cyclic_input_by_name():
    loop: list = []
    loop.append(loop)
    with Executor(parse_plan(COUNT_PLAN)) as executor:
        assert executor.run({"items": nested(LIMIT)}).output == 1
        for value in (nested(LIMIT + 1), loop):
            with pytest.raises(InputError, match="input 'items': nested") as caught:
                executor.check_inputs({"items": value})
            assert caught.value.field == "items"


def test_sgde_run_says_which_input_is_too_deep(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(COUNT_PLAN))
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"items": ' + brackets(HUGE) + "}\n")
    cli = [sys.executable, "-m", "sgde.compiler.cli", "run", str(plan)]
    for args, words in ((["--input-file", str(inputs)], "in.jsonl:1: nested more than"),
                        (["-i", "items=" + brackets(2000)], "input 'items': nested more than"),
                        (["-i", "items=[" + "9" * 5000 + "]"], "input 'items': an integer of 5000 digits"),
                        (["-i", "items=[NaN]"], "input 'items': NaN is not a JSON number")):
        done = subprocess.run(cli + args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = subprocess.run(cli + ["-i", "items=" + brackets(3)], capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout) == {"ok": True, "output": 1}
    # a byte that is not UTF-8 on the command line reaches Python as a lone surrogate
    raw = subprocess.run([*cli, "-i", b"items=[\"\xff\"]"], capture_output=True, text=True, timeout=120)
    assert raw.returncode == 2 and "input 'items': a string with a lone surrogate" in raw.stderr, raw.stderr


# --- student output -------------------------------------------------------------------------------------

@pytest.mark.parametrize("levels", [LIMIT + 1, 900, HUGE])
def test_a_student_output_nested_too_deeply_is_a_parse_error(levels):
    with pytest.raises(OutputParseError, match="nested") as caught:
        parse_json(brackets(levels), {"type": "array"})
    assert caught.value.field == "parser" and caught.value.limit == "max_depth"
    assert parse_json(brackets(LIMIT), {"type": "array"}) == nested(LIMIT)


@pytest.mark.parametrize("text", NOT_STRICT)
def test_a_student_output_with_numbers_outside_json_is_a_parse_error(text):
    with pytest.raises(OutputParseError, match="not plain JSON"):
        parse_json(text, {"type": "array"})


# --- teachers -------------------------------------------------------------------------------------------

def test_every_teacher_reply_is_checked_before_anything_walks_it():
    with pytest.raises(TeacherProtocolError, match="reply breaks a JSON rule: nested") as caught:
        TeacherReply(data={"edits": nested(LIMIT)})
    assert caught.value.limit == "max_depth"
    assert TeacherReply(data={"edits": nested(LIMIT - 1)}).data["edits"] == nested(LIMIT - 1)


@pytest.mark.parametrize("value, words, limit", [(brackets(LIMIT), "nested", "max_depth"),
                                                  (brackets(HUGE), "nested", "max_depth"),
                                                  ("[NaN]", "NaN is not a JSON number", None)])
def test_a_command_teacher_printing_json_sgde_does_not_take_is_a_protocol_error(tmp_path, value, words, limit):
    body = f"sys.stdout.write('{{\"edits\": {value}}}')"
    with pytest.raises(TeacherProtocolError, match=words) as caught:
        CommandTeacher(script(tmp_path, body)).ask(REQUEST)
    assert caught.value.limit == limit


def test_a_transcript_line_nested_too_deeply_is_named(tmp_path):
    good = json.dumps({"request": REQUEST.model_dump(mode="json"), "reply": {"data": {"n": 1}}})
    path = tmp_path / "transcript.jsonl"
    path.write_text(good + "\n" + good.replace('{"n": 1}', '{"n": ' + brackets(HUGE) + "}") + "\n" + good + "\n")
    with pytest.raises(TeacherProtocolError, match="line 2 is not a recorded call: nested more than"):
        load_transcript(path)


def test_a_lone_surrogate_in_a_request_reaches_a_command_teacher_and_the_transcript_escaped(tmp_path):
    # a code node may return any Python string (the sandbox protocol carries it); traces put it in a request,
    # which must still encode as UTF-8 for a command teacher's stdin and a transcript's line
    returned = {"output": "a\ud800b", "\udcff key": ["\udc80", "ok é"]}
    request = TeacherRequest(kind="critique", instructions="do it", response_schema={"type": "object"},
                             payload={"trace": returned})
    assert request.payload["trace"] == {"output": "a\\ud800b", "\\udcff key": ["\\udc80", "ok é"]}
    request.canonical().encode("utf-8")
    echo = CommandTeacher(script(tmp_path, "print(json.dumps({'echo': request['payload']['trace']['output']}))"))
    transcript = tmp_path / "transcript.jsonl"
    teacher = TranscriptTeacher([], live=echo, record_to=transcript)
    assert teacher.ask(request).data == {"echo": "a\\ud800b"}
    teacher.close()
    recorded = load_transcript(transcript)
    assert TeacherRequest.model_validate(recorded[0]["request"]).canonical() == request.canonical()


def test_escaping_lone_surrogates_leaves_text_alone():
    text = {"k": ["plain", "é 😀", 1, None, 2.5, {"n": "\u2028"}]}
    assert strict_json.escape_lone_surrogates(text) == text
