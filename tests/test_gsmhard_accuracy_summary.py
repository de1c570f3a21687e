"""benchmarks/gsmhard_accuracy.py --summarize: partial runs compared on the problems every plan answered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _rows(path: Path, plan: str, results: dict[str, bool], seconds: float) -> Path:
    path.write_text("".join(json.dumps({"plan": plan, "id": pid, "target": 1.0, "output": 1.0 if ok else 2.0,
                                        "correct": ok, "seconds": seconds, "tokens_out": 10, "error": None}) + "\n"
                            for pid, ok in results.items()))
    return path


def _summarize(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / "gsmhard_accuracy.py"), "--summarize",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_summary_scores_every_plan_on_the_shared_problems_only(tmp_path: Path) -> None:
    fast = _rows(tmp_path / "fast.jsonl", "pal", {"a": True, "b": False, "c": True, "d": True}, 1.0)
    # the slow plan ran in two processes (--start), and got through a, b and c only
    slow_1 = _rows(tmp_path / "slow-1.jsonl", "pal-sc", {"a": True, "b": True}, 3.0)
    slow_2 = _rows(tmp_path / "slow-2.jsonl", "pal-sc", {"c": False}, 3.0)
    done = _summarize(fast, slow_1, slow_2)
    assert done.returncode == 0, done.stderr
    assert "problems every plan answered: 3 (pal: 4, pal-sc: 3 answered in all)" in done.stdout
    table = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[2:]}
    assert table["pal"][:2] == ["2/3", "66.7%"]  # d, the one only pal answered, is left out
    assert table["pal-sc"][:2] == ["2/3", "66.7%"]
    assert table["pal-sc"][3] == "3.0"


def test_summary_refuses_plans_with_no_problem_in_common(tmp_path: Path) -> None:
    done = _summarize(_rows(tmp_path / "x.jsonl", "pal", {"a": True}, 1.0),
                      _rows(tmp_path / "y.jsonl", "pal-sc", {"b": True}, 1.0))
    assert done.returncode != 0
    assert "share no problem" in done.stderr
