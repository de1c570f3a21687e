"""Accuracy on unseen variants of the recorded families: seed plan vs PAL example vs compiled plan.

For each family under tests/fixtures/frontier/ with a recorded compile (plan-mM.yaml
and transcript-mM.jsonl), draws N unseen variants (seed 2; training used seed 1),
runs the three plans with the default student, and prints one table plus the
teacher calls and tokens each compile took to converge. Figures only; no asserts.

    python benchmarks/compile_families.py [--n 50] [--baseline-n N] [--family ID ...] [--plan seed|pal|compiled ...]
                                          [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sgde.compiler.evaluate import evaluate
from sgde.compiler.families import load_family, sample_family
from sgde.compiler.task import load_task, seed_plan
from sgde.compiler.teachers import load_transcript
from sgde.runtime.executor import Executor
from sgde.runtime.plan_io import load_plan
from sgde.runtime.sandbox import make_backend
from sgde.runtime.student.llama import LlamaStudent

REPO = Path(__file__).resolve().parent.parent
FRONTIER = REPO / "tests" / "fixtures" / "frontier"
TASK = REPO / "examples" / "gsmhard" / "task.yaml"
PAL = REPO / "examples" / "gsmhard" / "pal.yaml"


def teacher_cost(transcript: Path) -> dict:
    calls = load_transcript(transcript)
    # a command: teacher reports no tokens unless it says so; the sizes of what crossed are always known
    return {"calls": len(calls),
            "input_tokens": sum(c["reply"]["usage"]["input_tokens"] for c in calls),
            "output_tokens": sum(c["reply"]["usage"]["output_tokens"] for c in calls),
            "request_chars": sum(len(json.dumps(c["request"])) for c in calls),
            "answer_chars": sum(len(json.dumps(c["reply"]["data"])) for c in calls),
            "teacher_seconds": round(sum(c["reply"]["usage"]["seconds"] for c in calls), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="unseen variants per family for the compiled plans")
    parser.add_argument("--baseline-n", type=int, default=None, help="variants for seed/PAL (default: --n)")
    parser.add_argument("--family", action="append", help="only these family ids")
    parser.add_argument("--plan", action="append", choices=("seed", "pal", "compiled"),
                        help="only these plans (default: all three kinds)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    baseline_n = args.baseline_n or args.n

    student = LlamaStudent()
    sandboxes = {"restricted": make_backend("restricted")}
    task = load_task(TASK)
    rows, figures = [], []
    for family_dir in sorted(p for p in FRONTIER.iterdir() if (p / "family.yaml").exists()):
        if args.family and family_dir.name not in args.family:
            continue
        family = load_family(family_dir / "family.yaml")
        variants = sample_family(family, max(args.n, baseline_n), seed=2, backend=sandboxes["restricted"])
        plans = [("seed", seed_plan(task, TASK), baseline_n), ("pal", load_plan(PAL), baseline_n)]
        for plan_path in sorted(family_dir.glob("plan-m*.yaml")):
            plans.append((f"compiled {plan_path.stem[5:]}", load_plan(plan_path), args.n))
        for label, plan, n in plans:
            if args.plan and label.split()[0] not in args.plan:
                continue
            executor = Executor(plan, student=student, sandboxes=sandboxes)
            def progress(i, item, family=family, label=label, n=n):
                print(f"  {family.id} {label} {i + 1}/{n} {'ok' if item.correct else 'x'}", file=sys.stderr)
            report = evaluate(executor, variants[:n], model=student.model_name, on_item=progress)
            cost = {}
            if label.startswith("compiled"):
                m = label.split()[1]
                cost = teacher_cost(family_dir / f"transcript-{m}.jsonl")
            rows.append((family.id, label, report, cost))
            figures.append({**report.model_dump(exclude={"items"}), "family": family.id, "plan_name": plan.name,
                            "plan": label, "teacher": cost})

    print(f"{'family':14} {'plan':13} {'n':>4} {'accuracy':>9} {'s/item':>7} {'tok/item':>8}  "
          "teacher: calls, tokens in+out, request+reply kchars, seconds")
    for family_id, label, report, cost in rows:
        tokens = (report.tokens_in + report.tokens_out) / max(report.n, 1)
        teacher = (f"{cost['calls']}, {cost['input_tokens']}+{cost['output_tokens']}, "
                   f"{cost['request_chars'] / 1000:.0f}+{cost['answer_chars'] / 1000:.0f}, {cost['teacher_seconds']:g}"
                   if cost else "")
        print(f"{family_id:14} {label:13} {report.n:>4} {report.accuracy:>8.1%} {report.seconds_per_item:>7.2f} "
              f"{tokens:>8.0f}  {teacher}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    for backend in sandboxes.values():
        backend.close()
    student.close()


if __name__ == "__main__":
    main()
