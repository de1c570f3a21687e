"""The recorded frontier compiles (tests/fixtures/frontier/, see record.sh there) replay to
byte-identical plans on the default student, and the compiled plans are what they claim.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sgde.compiler.families import load_family
from sgde.compiler.history import parse_history
from sgde.compiler.teachers import load_transcript
from sgde.runtime.plan import CodeNode
from sgde.runtime.plan_io import load_plan

REPO = Path(__file__).resolve().parent.parent
FRONTIER = REPO / "tests" / "fixtures" / "frontier"
RECORDED = sorted(FRONTIER.glob("*/transcript-m*.jsonl"))


def test_at_least_three_families_were_recorded():
    assert len({path.parent.name for path in RECORDED}) >= 3


@pytest.mark.parametrize("transcript", RECORDED, ids=lambda p: f"{p.parent.name}-{p.stem[11:]}")
def test_recorded_plan_is_verified_code_written_by_the_teacher(transcript):
    plan = load_plan(transcript.parent / f"plan-{transcript.stem[11:]}.yaml")
    calls = load_transcript(transcript)
    assert plan.provenance.teacher == calls[0]["teacher"] and plan.provenance.teacher.startswith("command:")
    assert len(plan.provenance.score_history) >= 1
    for node in plan.nodes:
        if isinstance(node, CodeNode) and node.source is not None:
            assert node.properties is not None, node.id  # teacher code only lands with its property tests
    load_family(transcript.parent / "family.yaml")


@pytest.mark.parametrize("transcript", RECORDED, ids=lambda p: f"{p.parent.name}-{p.stem[11:]}")
def test_the_history_in_every_recorded_request_is_what_the_typed_events_write(transcript):
    """The loop's history is typed now; the requests it sends must still carry it as recorded, key for key."""
    for call in load_transcript(transcript):
        history = call["request"]["payload"]["history"]
        events = parse_history(history)
        assert json.dumps([e.to_json() for e in events]) == json.dumps(history)


@pytest.mark.e2e
@pytest.mark.model
@pytest.mark.parametrize("transcript", RECORDED, ids=lambda p: f"{p.parent.name}-{p.stem[11:]}")
def test_replaying_a_recorded_compile_gives_the_byte_identical_plan(transcript, tmp_path, default_model_path):
    m = transcript.stem[len("transcript-m"):]
    out = tmp_path / "replayed.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "sgde.compiler.cli", "compile", str(REPO / "examples" / "gsmhard" / "task.yaml"),
         "--examples", str(transcript.parent / "train.jsonl"), "--m", m, "--teacher", f"replay:{transcript}",
         "--out", str(out), "--max-teacher-calls", "6", "--model", str(default_model_path)],
        capture_output=True, text=True, timeout=3600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_bytes() == (transcript.parent / f"plan-m{m}.yaml").read_bytes()


@pytest.mark.e2e
@pytest.mark.model
def test_readme_first_command_runs_the_recorded_plan_to_the_answer_it_promises(tmp_path, default_model_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = re.search(r"--m (\d) --teacher replay:(\S+) --out legs\.yaml && sgde run legs\.yaml --input "
                        r"question=\"([^\"]+)\"", readme)
    promised = re.search(r'the run prints\s+`(\{"ok": true, "output": [^`]+\})`', readme)
    assert command and promised, "the README's first command or its promised output moved"
    plan = REPO / Path(command.group(2)).parent / f"plan-m{command.group(1)}.yaml"
    done = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "run", str(plan), "--input",
                           f"question={command.group(3)}", "--model", str(default_model_path)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == json.loads(promised.group(1))
