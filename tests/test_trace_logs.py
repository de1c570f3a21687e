"""Traces carry a run id, the plan's hash and a timestamp; --redact keeps data out of them; logs can be JSON."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import datetime

import yaml

from sgde.runtime.logs import configure_logging
from sgde.runtime.plan_io import parse_plan
from tests.test_executor import code_plan

SGDE = [sys.executable, "-m", "sgde.compiler.cli"]
SECRET = "victim-token-4711"


def _plan_file(tmp_path, source=None):
    data = code_plan()
    data["inputs"]["note"] = {"type": "string"}
    add = data["nodes"][1]
    add["reads"] = ["a", "b", "note"]
    add["source"] = source or ("def run(inputs):\n    print('seen', inputs['note'])\n"
                               "    return {'sum': inputs['a'] + inputs['b'], 'echo': inputs['note']}\n")
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, parse_plan(data)


def _run(tmp_path, *extra, source=None):
    path, plan = _plan_file(tmp_path, source)
    trace = tmp_path / "trace.jsonl"
    out = subprocess.run([*SGDE, "--log-format", "json", "--log-level", "info", "run", str(path), "-i", "a=1",
                          "-i", "b=2", "-i", f"note={SECRET}", "--trace", str(trace), *extra],
                         capture_output=True, text=True, timeout=120)
    return out, [json.loads(line) for line in trace.read_text().splitlines()], plan


def test_trace_records_and_json_logs_share_the_run_id_and_the_plan_hash(tmp_path):
    out, records, plan = _run(tmp_path)
    assert out.returncode == 0, out.stderr
    logs = [json.loads(line) for line in out.stderr.splitlines()]
    done = [entry for entry in logs if entry.get("run_id")]
    assert len(done) == 1 and done[0]["ok"] is True and done[0]["level"] == "info"
    assert done[0]["plan_sha256"] == plan.content_hash()
    assert {r["run_id"] for r in records} == {done[0]["run_id"]}
    assert {r["plan_sha256"] for r in records} == {plan.content_hash()}
    starts = [datetime.fromisoformat(r["ts"].replace("Z", "+00:00")) for r in records]
    assert starts == sorted(starts)
    assert SECRET in json.dumps(records)  # without --redact the trace keeps the data


def test_redact_keeps_inputs_outputs_and_printed_text_out_of_the_trace(tmp_path):
    out, records, _ = _run(tmp_path, "--redact")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True  # the caller still gets the answer
    text = json.dumps(records)
    assert SECRET not in text and "seen" not in text
    assert all(r["redacted"] and r["inputs"] == {} and r["output"] is None for r in records)
    assert [r["node"] for r in records] == ["add", "double"] and all(r["duration_s"] > 0 for r in records)


def test_redact_drops_error_messages_that_quote_data_but_keeps_their_type(tmp_path):
    failing = "def run(inputs):\n    raise ValueError('bad note ' + inputs['note'])\n"
    out, records, _ = _run(tmp_path, "--redact", source=failing)
    assert out.returncode == 1
    assert SECRET not in json.dumps(records) and SECRET not in out.stderr
    assert records[-1]["error"]["type"] == "node_raised" and "message" not in records[-1]["error"]


def test_json_formatter_writes_extra_fields_and_exceptions():
    stream = io.StringIO()
    handler = configure_logging("json", "debug", stream=stream)
    try:
        log = logging.getLogger("sgde.test")
        log.info("hello %s", "there", extra={"run_id": "r1", "node": "n"})
        try:
            raise KeyError("k")
        except KeyError:
            log.exception("boom")
        first, second = (json.loads(line) for line in stream.getvalue().splitlines())
        assert first["message"] == "hello there" and first["run_id"] == "r1" and first["node"] == "n"
        assert first["logger"] == "sgde.test" and first["ts"].endswith("Z")
        assert second["level"] == "error" and "KeyError" in second["exc"]
    finally:
        logging.getLogger("sgde").removeHandler(handler)


def test_a_bad_log_format_is_a_usage_error():
    out = subprocess.run([*SGDE, "--log-format", "xml", "validate", "x.yaml"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "--log-format must be text or json" in out.stderr
