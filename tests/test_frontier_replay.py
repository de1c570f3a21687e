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
from sgde.runtime.student.models import MODELS

REPO = Path(__file__).resolve().parent.parent
FRONTIER = REPO / "tests" / "fixtures" / "frontier"
#: a family's compiles for the default student sit in its folder, those for another student in a subfolder
#: named after it (gsmhard-0121/smollm2-135m/), the compile on GSM-Hard at large in gsmhard-large/
RECORDED = sorted(FRONTIER.glob("**/transcript-m*.jsonl"))


def _id(transcript: Path) -> str:
    return f"{transcript.parent.relative_to(FRONTIER).as_posix().replace('/', '-')}-{transcript.stem[11:]}"


def _nearest(transcript: Path, name: str) -> Path | None:
    """The file of that name in the transcript's folder or the family folder above it."""
    for folder in (transcript.parent, transcript.parent.parent):
        if (folder / name).exists():
            return folder / name
    return None


def _plan_of(transcript: Path) -> Path:
    return transcript.parent / f"plan-{transcript.stem[11:]}.yaml"


def test_at_least_three_families_were_recorded():
    families = {family.parent.name for family in (_nearest(path, "family.yaml") for path in RECORDED) if family}
    assert len(families) >= 3  # a student's subfolder is not a family of its own


def test_every_recorded_compile_is_found_with_its_examples():
    ids = [_id(path) for path in RECORDED]
    assert {"gsmhard-0121-m3", "gsmhard-0121-smollm2-135m-m3", "gsmhard-large-m3"} <= set(ids)
    assert all(_nearest(path, "train.jsonl") for path in RECORDED)


@pytest.mark.parametrize("transcript", RECORDED, ids=_id)
def test_recorded_plan_is_verified_code_written_by_the_teacher(transcript):
    plan = load_plan(_plan_of(transcript))
    calls = load_transcript(transcript)
    assert plan.provenance.teacher == calls[0]["teacher"] and plan.provenance.teacher.startswith("command:")
    assert len(plan.provenance.score_history) >= 1
    for node in plan.nodes:
        if isinstance(node, CodeNode) and node.source is not None:
            assert node.properties is not None, node.id  # teacher code only lands with its property tests
    family = _nearest(transcript, "family.yaml")
    if transcript.parent.name != "gsmhard-large":  # the compile at large trains on problems, not on a family
        assert family is not None
        load_family(family)


@pytest.mark.parametrize("transcript", RECORDED, ids=_id)
def test_the_history_in_every_recorded_request_is_what_the_typed_events_write(transcript):
    """The loop's history is typed now; the requests it sends must still carry it as recorded, key for key."""
    for call in load_transcript(transcript):
        history = call["request"]["payload"]["history"]
        events = parse_history(history)
        assert json.dumps([e.to_json() for e in events]) == json.dumps(history)


@pytest.mark.e2e
@pytest.mark.model
@pytest.mark.parametrize("transcript", RECORDED, ids=_id)
def test_replaying_a_recorded_compile_gives_the_byte_identical_plan(transcript, tmp_path, installed_model):
    """With the options it was recorded with, read back from the plan: its student, its held-out count
    (the thread count the replay pins itself)."""
    m = transcript.stem[len("transcript-m"):]
    recorded = load_plan(_plan_of(transcript))
    (model,) = [name for name, spec in MODELS.items() if spec.filename == recorded.provenance.student_model]
    held_out = re.search(r"\((\d+) more held out", recorded.provenance.notes)
    out = tmp_path / "replayed.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "sgde.compiler.cli", "compile", str(REPO / "examples" / "gsmhard" / "task.yaml"),
         "--examples", str(_nearest(transcript, "train.jsonl")), "--m", m, "--teacher", f"replay:{transcript}",
         "--out", str(out), "--max-teacher-calls", "6", "--model", str(installed_model(model)),
         *(["--holdout", held_out.group(1)] if held_out else [])],
        capture_output=True, text=True, timeout=3600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_bytes() == _plan_of(transcript).read_bytes()


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
