"""Accuracy and seconds per problem of PAL plans on the first N GSM-Hard development problems.

    python benchmarks/gsmhard_accuracy.py [--n 50] [--model NAME|GGUF] [--plans a.yaml b.yaml]
                                          [--data ../shared/data/gsmhard-dev.jsonl] [--out results.jsonl]
                                          [--exclude train.jsonl ...]

`--exclude` drops the problems whose ids a compile trained on, so the first N
are problems that compile never saw (the GSM-Hard-at-large measurement:
tests/fixtures/frontier/gsmhard-large/).

Scored as PAL scores it: |pred - target| < 1e-3. Compares examples/gsmhard/pal.yaml
against the one-shot PAL baseline (examples/gsmhard/pal_1shot.yaml), one student
shared by both, in one run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from sgde.runtime.executor import Executor
from sgde.runtime.plan_io import load_plan
from sgde.runtime.student.llama import LlamaStudent

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PLANS = [REPO / "examples/gsmhard/pal_1shot.yaml", REPO / "examples/gsmhard/pal.yaml"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--model", default=None)
    parser.add_argument("--plans", nargs="+", type=Path, default=DEFAULT_PLANS)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/gsmhard-dev.jsonl")
    parser.add_argument("--out", type=Path, default=None, help="per-item results (JSONL)")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[],
                        help="example files (JSONL with ids) whose problems are left out")
    args = parser.parse_args()

    seen = {json.loads(line)["id"] for path in args.exclude for line in path.read_text().splitlines() if line.strip()}
    rows = [row for row in map(json.loads, args.data.read_text().splitlines()) if row["id"] not in seen][: args.n]
    student = LlamaStudent(args.model)
    out = open(args.out, "w") if args.out else None
    summary = []
    for plan_path in args.plans:
        plan = load_plan(plan_path)
        correct, failed, seconds, tokens = 0, 0, 0.0, 0
        with Executor(plan, student=student, plan_dir=plan_path.parent) as executor:
            for row in rows:
                started = time.perf_counter()
                result = executor.run({"question": row["input"]})
                elapsed = time.perf_counter() - started
                seconds += elapsed
                tokens += sum(r.tokens_out for r in result.trace)
                ok = result.ok and abs(result.output - row["target"]) < 1e-3
                correct += ok
                failed += not result.ok
                if out:
                    out.write(json.dumps({"plan": plan.name, "id": row["id"], "target": row["target"],
                                          "output": result.output, "correct": ok, "seconds": round(elapsed, 2),
                                          "error": result.error.to_dict() if result.error else None}) + "\n")
                    out.flush()
        summary.append((plan.name, correct, failed, seconds / len(rows), tokens / len(rows)))
    student.close()
    print(f"model: {student.model_name}   problems: first {len(rows)} of {args.data.name}"
          + (f" not in {', '.join(p.name for p in args.exclude)} ({len(seen)} left out)" if seen else ""))
    print(f"{'plan':22} {'correct':>9} {'accuracy':>9} {'node errors':>12} {'s/problem':>10} {'tokens out':>11}")
    for name, correct, failed, per_item, toks in summary:
        print(f"{name:22} {correct:>5}/{len(rows):<3} {correct / len(rows):9.1%} {failed:12} {per_item:10.1f} "
              f"{toks:11.0f}")


if __name__ == "__main__":
    main()
