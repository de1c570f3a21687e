"""AnthropicTeacher against a local stub of the Messages API.

The real ``anthropic`` SDK talks real HTTP to a stub server on 127.0.0.1, so what
is tested is what production does: the SDK's retries and ``retry-after`` handling,
its error classes, its parsing of replies, and the request body it actually sends.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from sgde.compiler.errors import TeacherProtocolError, TeacherReplyInvalid, TeacherUnavailable
from sgde.compiler.teachers.anthropic_teacher import AnthropicTeacher, price_for
from sgde.compiler.teachers.base import TeacherRequest, validate_reply

# Not a real model id on purpose: the SDK emits a DeprecationWarning for retired model
# names (an error under -W error), and the "claude-sonnet-4" prefix still prices it.
MODEL = "claude-sonnet-4-stub"
API_KEY = "sk-ant-test-key"


# --- the stub server -----------------------------------------------------------------

@dataclass
class Canned:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (released early at teardown)
    raw: bytes | None = None  # the body as is, for what json.dumps cannot write (JSON nested past Python's stack)


@dataclass
class Stub:
    base_url: str = ""
    script: deque[Canned] = field(default_factory=deque)
    fallback: Canned | None = None  # answer once the script is used up ("every time")
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, canned: Canned) -> "Stub":
        self.script.append(canned)
        return self

    def next(self) -> Canned:
        with self.lock:
            if self.script:
                return self.script.popleft()
        if self.fallback is None:
            return Canned(500, api_error("api_error", "stub: script exhausted"))
        return self.fallback


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("content-length", 0))
        raw = self.rfile.read(length)
        stub = self.server.stub
        with stub.lock:
            stub.requests.append({"path": self.path,
                                  "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "body": json.loads(raw) if raw else None})
        canned = stub.next() if self.path == "/v1/messages" else Canned(
            404, api_error("not_found_error", f"stub: no route {self.path}"))
        if canned.delay:
            stub.release.wait(canned.delay)
        data = canned.raw if canned.raw is not None else json.dumps(canned.body or {}).encode()
        try:
            self.send_response(canned.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_stub_{len(stub.requests)}")
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled handler never keeps the test process alive
    stub: Stub

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-reply is expected here, not a failure


@pytest.fixture
def stub(monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # a CI proxy must not intercept calls to the stub
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stub = Stub(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.stub
    finally:
        server.stub.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def make_teacher(stub):
    made: list[AnthropicTeacher] = []

    def make(**kwargs: Any) -> AnthropicTeacher:
        kwargs.setdefault("api_key", API_KEY)
        kwargs.setdefault("base_url", stub.base_url)
        kwargs.setdefault("max_retries", 2)
        kwargs.setdefault("timeout_s", 5.0)
        teacher = AnthropicTeacher(kwargs.pop("model", MODEL), **kwargs)
        made.append(teacher)
        return teacher

    yield make
    for teacher in made:
        teacher.close()


# --- canned Messages API bodies ----------------------------------------------------------

def message(content: list[dict[str, Any]], *, stop_reason: str = "tool_use", input_tokens: int = 10,
            output_tokens: int = 5, cache_write: int | None = 0, cache_read: int | None = 0) -> dict[str, Any]:
    return {"id": "msg_01StubStubStub", "type": "message", "role": "assistant", "model": MODEL,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                      "cache_creation_input_tokens": cache_write, "cache_read_input_tokens": cache_read}}


def tool_use(data: Any, name: str = "respond") -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_01Stub", "name": name, "input": data}


def api_error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


def sent_key(headers: dict[str, str]) -> str | None:
    """The API key a request carried: SDKs before 2.x send ``x-api-key``, 2.x sends it as a bearer token."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


FAST_RETRY = {"retry-after-ms": "1"}  # the SDK honours it, so retries take a millisecond


# --- the request --------------------------------------------------------------------

class Edit(BaseModel):
    line: int
    text: str


class Critique(BaseModel):
    verdict: Literal["keep", "change"]
    edits: list[Edit]


SCHEMA = Critique.model_json_schema()  # has $defs/$ref: it must reach the API untouched
GOOD = {"verdict": "change", "edits": [{"line": 3, "text": "use the parser"}]}


def request(**payload: Any) -> TeacherRequest:
    return TeacherRequest(kind="critique", instructions="Critique the student's traces.",
                          response_schema=SCHEMA, payload=payload or {"plan": "p1", "traces": ["é", 2]})


# --- cases ------------------------------------------------------------------------------

def test_tool_use_reply_and_the_request_sent(stub, make_teacher):
    stub.then(Canned(200, message([{"type": "text", "text": "Here it is."}, tool_use(GOOD)],
                                  input_tokens=1000, output_tokens=200, cache_write=2000, cache_read=5000)))
    teacher = make_teacher()
    assert teacher.spec == f"anthropic:{MODEL}"

    reply = teacher.ask(request())

    assert reply.data == GOOD
    assert validate_reply(reply.data, Critique) == Critique.model_validate(GOOD)
    u = reply.usage
    assert (u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens) == (1000, 200, 2000, 5000)
    # sonnet-4: $3 in / $15 out per Mtok; cache writes 1.25x input, reads 0.1x input
    assert u.usd == pytest.approx((1000 * 3 + 200 * 15 + 2000 * 3 * 1.25 + 5000 * 3 * 0.1) / 1e6)
    assert u.attempts == 1
    assert 0 < u.seconds < 5

    [sent] = stub.requests
    assert sent["path"] == "/v1/messages"
    assert sent_key(sent["headers"]) == API_KEY
    assert "anthropic-version" in sent["headers"]
    body = sent["body"]
    assert body["model"] == MODEL
    assert body["max_tokens"] == 8192
    [tool] = body["tools"]
    assert tool["name"] == "respond"
    assert tool["input_schema"] == SCHEMA and "$defs" in tool["input_schema"]
    assert tool["cache_control"] == {"type": "ephemeral"}
    assert body["tool_choice"] == {"type": "tool", "name": "respond"}
    assert body["system"] == [{"type": "text", "text": "Critique the student's traces.",
                               "cache_control": {"type": "ephemeral"}}]
    [user] = body["messages"]
    assert user["role"] == "user"
    [text] = user["content"]
    assert text["text"] == json.dumps({"plan": "p1", "traces": ["é", 2]}, indent=1, sort_keys=True,
                                      ensure_ascii=False)


def test_429_then_success_is_retried(stub, make_teacher):
    stub.then(Canned(429, api_error("rate_limit_error", "Number of request tokens has exceeded your limit"),
                     FAST_RETRY))
    # the real API may send null cache counts: they count as 0
    stub.then(Canned(200, message([tool_use(GOOD)], cache_write=None, cache_read=None)))

    reply = make_teacher().ask(request())

    assert reply.data == GOOD
    assert reply.usage.attempts == 2
    assert len(stub.requests) == 2
    assert (reply.usage.cache_read_tokens, reply.usage.cache_write_tokens) == (0, 0)


def test_529_every_time_gives_up_after_the_retries(stub, make_teacher):
    stub.fallback = Canned(529, api_error("overloaded_error", "Overloaded"), FAST_RETRY)

    with pytest.raises(TeacherUnavailable) as err:
        make_teacher(max_retries=2).ask(request())

    assert len(stub.requests) == 3
    assert "529" in str(err.value) and "overloaded_error" in str(err.value)
    assert "3 attempts" in str(err.value)
    assert err.value.limit == "retries"


def test_500_is_retried_too(stub, make_teacher):
    stub.then(Canned(500, api_error("api_error", "Internal server error"), FAST_RETRY))
    stub.then(Canned(200, message([tool_use(GOOD)])))

    reply = make_teacher().ask(request())

    assert reply.data == GOOD and reply.usage.attempts == 2


def test_timeout_gives_up_quickly(stub, make_teacher):
    stub.fallback = Canned(200, message([tool_use(GOOD)]), delay=1.0)
    teacher = make_teacher(timeout_s=0.3, max_retries=1)

    started = time.monotonic()
    with pytest.raises(TeacherUnavailable) as err:
        teacher.ask(request())

    assert "timed out" in str(err.value) and "2 attempts" in str(err.value)
    assert len(stub.requests) == 2
    assert time.monotonic() - started < 4  # two 0.3 s timeouts and one short back-off


def test_unreachable_server(stub, make_teacher):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    with pytest.raises(TeacherUnavailable) as err:
        make_teacher(base_url=f"http://127.0.0.1:{port}", max_retries=0).ask(request())

    assert "cannot reach" in str(err.value) and err.value.limit == "retries"


def test_reply_off_schema_comes_back_for_the_caller_to_reject(stub, make_teacher):
    bad = {"verdict": "change", "edits": [{"line": "three", "text": "x"}]}
    stub.then(Canned(200, message([tool_use(bad)])))

    reply = make_teacher().ask(request())

    assert reply.data == bad  # unchanged: validating is the caller's job
    with pytest.raises(TeacherReplyInvalid) as err:
        validate_reply(reply.data, Critique)
    assert err.value.field == "edits.0.line"
    assert "edits.0.line" in str(err.value)


def test_text_only_reply_is_a_protocol_error(stub, make_teacher):
    stub.then(Canned(200, message([{"type": "text", "text": "I would rather not use tools."}],
                                  stop_reason="end_turn")))

    with pytest.raises(TeacherProtocolError) as err:
        make_teacher().ask(request())

    assert "no 'respond' tool call" in str(err.value)
    assert "end_turn" in str(err.value) and "I would rather not use tools." in str(err.value)
    assert err.value.value["input_tokens"] == 10  # the wasted call's usage travels with the error


@pytest.mark.parametrize("content, stop_reason, expected", [
    ([tool_use(["not", "an", "object"])], "tool_use", "not an object"),
    ([tool_use(GOOD, name="something_else")], "tool_use", "no 'respond' tool call"),
    ([tool_use({"verdict": "chan"})], "max_tokens", "max_tokens"),
])
def test_unusable_tool_calls(stub, make_teacher, content, stop_reason, expected):
    stub.then(Canned(200, message(content, stop_reason=stop_reason)))

    with pytest.raises(TeacherProtocolError) as err:
        make_teacher().ask(request())

    assert expected in str(err.value)


@pytest.mark.parametrize("status, kind", [(400, "invalid_request_error"), (401, "authentication_error"),
                                          (404, "not_found_error")])
def test_client_errors_are_not_retried(stub, make_teacher, status, kind):
    stub.fallback = Canned(status, api_error(kind, "tools.0.input_schema: JSON schema is invalid"), FAST_RETRY)

    with pytest.raises(TeacherProtocolError) as err:
        make_teacher().ask(request())

    assert len(stub.requests) == 1
    assert str(status) in str(err.value) and kind in str(err.value)
    assert "tools.0.input_schema: JSON schema is invalid" in str(err.value)


def test_missing_api_key(stub):
    with pytest.raises(TeacherUnavailable) as err:
        AnthropicTeacher(MODEL, base_url=stub.base_url)
    assert err.value.field == "api_key" and "ANTHROPIC_API_KEY" in str(err.value)
    assert stub.requests == []


def test_api_key_and_base_url_from_the_environment(stub, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.base_url)
    stub.then(Canned(200, message([tool_use(GOOD)])))

    with AnthropicTeacher(MODEL) as teacher:
        assert teacher.ask(request()).data == GOOD

    assert sent_key(stub.requests[0]["headers"]) == "sk-ant-from-env"


def test_prices(stub, make_teacher, caplog):
    assert price_for("claude-opus-4-1-20250805") == (15.0, 75.0)
    assert price_for("claude-3-5-haiku-latest") == (0.8, 4.0)
    assert price_for("claude-haiku-4-5") == (1.0, 5.0)
    assert price_for("gpt-4o") is None

    stub.then(Canned(200, message([tool_use(GOOD)], input_tokens=1_000_000, output_tokens=0)))
    assert make_teacher(prices=(2.0, 8.0)).ask(request()).usage.usd == pytest.approx(2.0)

    with caplog.at_level(logging.WARNING, logger="sgde.compiler.teachers.anthropic_teacher"):
        unknown = make_teacher(model="claude-unknown-stub")
        make_teacher(model="claude-unknown-stub")  # logged once, not per teacher
    assert len([r for r in caplog.records if "claude-unknown-stub" in r.getMessage()]) == 1
    stub.then(Canned(200, message([tool_use(GOOD)], input_tokens=1_000_000, output_tokens=0)))
    assert unknown.ask(request()).usage.usd == 0.0


def test_close_is_idempotent(make_teacher):
    teacher = make_teacher()
    teacher.close()
    teacher.close()
    with pytest.raises(TeacherUnavailable):
        teacher.ask(request())


# --- the whole loop through the Anthropic client -------------------------------------------

@pytest.mark.model
def test_a_compile_through_the_anthropic_teacher(stub, tmp_path, tiny_student):
    """The compile loop with the real SDK as its teacher: a 429 on the way is retried inside the call,
    the scripted critiques arrive as tool calls, tokens and USD reach the report."""
    import importlib.util
    from pathlib import Path

    from sgde.compiler.loop import CompileOptions, run_compile
    from sgde.compiler.report import render_report
    from sgde.compiler.task import load_examples, load_task, seed_plan
    from sgde.runtime.policy import load_policy
    from sgde.runtime.sandbox import make_backend

    fixtures = Path(__file__).parent / "fixtures" / "compile"
    spec = importlib.util.spec_from_file_location("scripted_teacher", fixtures / "scripted_teacher.py")
    scripted = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scripted)
    stub.then(Canned(429, api_error("rate_limit_error", "slow down"), FAST_RETRY))
    for iteration in (1, 2):
        stub.then(Canned(200, message([tool_use(scripted.reply(iteration))], input_tokens=20000,
                                      output_tokens=3000, cache_read=15000)))
    task = load_task(fixtures / "arith_task.yaml")
    teacher = AnthropicTeacher(MODEL, api_key=API_KEY, base_url=stub.base_url, max_retries=2)
    sandbox = make_backend("restricted")
    try:
        result = run_compile(task=task, seed=seed_plan(task, fixtures / "arith_task.yaml"),
                             examples=load_examples(fixtures / "arith_examples.jsonl", task, 3), teacher=teacher,
                             student=tiny_student, policy=load_policy("default"),
                             sandboxes={"restricted": sandbox}, run_dir=tmp_path / "run", options=CompileOptions())
    finally:
        sandbox.close()
        teacher.close()
    assert result.state.stop.startswith("converged") and result.state.teacher_calls == 2
    assert len(stub.requests) == 3  # the 429 was retried inside the first call
    sent = stub.requests[-1]["body"]
    assert sent["tools"][0]["input_schema"]["title"] == "CritiqueReply"
    assert json.loads(sent["messages"][0]["content"][0]["text"])["iteration"] == 2
    usage = result.state.usage
    assert usage.input_tokens == 40000 and usage.cache_read_tokens == 30000 and usage.usd > 0
    assert result.plan.provenance.teacher == f"anthropic:{MODEL}"
    assert f"USD: {usage.usd:.4f}" in render_report(result)


@pytest.mark.parametrize("levels", [65, 5000])
def test_a_reply_nested_too_deeply_is_a_protocol_error_not_a_recursion_error(stub, make_teacher, levels):
    # 65: the SDK parses it, the reply's own check refuses it; 5000: deeper than Python's json goes
    body = json.dumps(message([tool_use("@@")])).replace('"@@"', '{"edits": ' + "[" * levels + "]" * levels + "}")
    stub.then(Canned(200, raw=body.encode()))
    with pytest.raises(TeacherProtocolError, match="nested") as caught:
        make_teacher().ask(request())
    assert caught.value.limit == "max_depth"
