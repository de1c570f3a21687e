"""benchmarks/compare.py --render: separate runs (methods, families, students) merged into one table and plot."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("compare", REPO / "benchmarks" / "compare.py")
assert _spec is not None and _spec.loader is not None
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)

BIG, SMALL = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def _item(correct: bool, seconds: float = 2.0) -> dict[str, Any]:
    return {"id": "v", "answer": 1.0, "prediction": 1.0 if correct else 2.0, "correct": correct, "error": None,
            "seconds": seconds, "tokens_in": 10, "tokens_out": 4}


def _run(folder: Path, rows: list[dict[str, Any]], header: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "compare.json").write_text(json.dumps(rows))
    if header is not None:
        (folder / "compare.md").write_text(f"{compare.TITLE}\n\n{header}\n\n| family | student |\n")
    return folder / "compare.json"


def _render(*sources: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare.py"), "--render", *map(str, sources),
                           "--out-dir", str(out)], capture_output=True, text=True, timeout=120)


def test_render_merges_students_and_pools_only_methods_run_on_every_family(tmp_path: Path) -> None:
    # the default student's run names its student only in compare.md (as runs before the column did)
    plans = _run(tmp_path / "plans", [compare.row_of(f, "sgde-m3", 3, [_item(True), _item(f == "fa")])
                                      for f in ("fa", "fb")], header=f"student: {BIG} (2 threads); 2 variants")
    small = _run(tmp_path / "small", [dict(compare.row_of(f, "sgde-m3", 3, [_item(True)] * 2), student=SMALL)
                                      for f in ("fa", "fb")])
    dspy = _run(tmp_path / "dspy", [dict(compare.row_of("fa", "dspy-gepa-cot", 3, [_item(False)] * 2), student=BIG)])
    done = _render(plans, small, dspy, out=tmp_path / "out")
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "out" / "compare.json").read_text())
    pooled = {(r["student"], r["method"]): (r["correct"], r["n"]) for r in rows if r["family"] == "all"}
    # the big student's sgde pooled over both families: 2/2 on fa, 1/2 on fb
    assert pooled == {(BIG, "sgde-m3"): (3, 4), (SMALL, "sgde-m3"): (4, 4)}  # DSPy ran on fa only: not pooled
    table = (tmp_path / "out" / "compare.md").read_text()
    assert "| fa | qwen2.5-coder-0.5b | sgde-m3 | 3 | 2 | 100.0% (2/2)" in table
    assert "| fa | qwen2.5-coder-1.5b | dspy-gepa-cot | 3 | 2 | 0.0% (0/2)" in table
    assert f"> student: {BIG}" in table  # each source's own header is quoted
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "out" / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_render_later_file_wins_and_unnamed_student_is_an_error(tmp_path: Path) -> None:
    first = _run(tmp_path / "a", [dict(compare.row_of("fa", "pal", None, [_item(False)]), student=BIG)])
    again = _run(tmp_path / "b", [dict(compare.row_of("fa", "pal", None, [_item(True)]), student=BIG)])
    assert _render(first, again, out=tmp_path / "out").returncode == 0
    rows = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert [(r["method"], r["correct"]) for r in rows] == [("pal", 1)]

    anonymous = _run(tmp_path / "c", [compare.row_of("fa", "pal", None, [_item(True)])])
    done = _render(anonymous, out=tmp_path / "out2")
    assert done.returncode != 0 and "name no student" in done.stderr and "Traceback" not in done.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    done = _render(broken, out=tmp_path / "out3")
    assert done.returncode != 0 and "cannot read rows from" in done.stderr and "Traceback" not in done.stderr


def test_own_methods_run_the_plans_compiled_for_the_running_student(tmp_path: Path) -> None:
    # the real 135M student and sandbox: gsmhard-0121 has an m = 5 plan compiled for it (smollm2-135m/),
    # gsmhard-0126 only an m = 3 one
    own = REPO / "tests" / "fixtures" / "frontier" / "gsmhard-0121" / "smollm2-135m"
    assert not (REPO / "tests" / "fixtures" / "frontier" / "gsmhard-0126" / "smollm2-135m" / "plan-m5.yaml").exists()
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare.py"), "--model", "smollm2-135m",
                           "--families", "gsmhard-0121", "gsmhard-0126", "--variants", "1",
                           "--methods", "sgde-own-m5", "--out-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "SGDE_N_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert "gsmhard-0126 sgde-own-m5: no plan recorded for SmolLM2-135M-Instruct.Q4_1.gguf; skipped" in done.stderr
    rows = json.loads((tmp_path / "compare.json").read_text())
    assert [(r["family"], r["method"], r["m"], r["n"]) for r in rows] == [("gsmhard-0121", "sgde-own-m5", 5, 1)]
    assert rows[0]["plan_sha256"] == compare.load_plan(own / "plan-m5.yaml").content_hash()
    assert rows[0]["teacher_calls"] == len((own / "transcript-m5.jsonl").read_text().splitlines()) == 1
