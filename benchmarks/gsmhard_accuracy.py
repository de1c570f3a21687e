"""Accuracy and seconds per problem of PAL plans on the first N GSM-Hard development problems.

    python benchmarks/gsmhard_accuracy.py [--n 50] [--start 0] [--model NAME|GGUF] [--plans a.yaml b.yaml]
                                          [--data ../shared/data/gsmhard-dev.jsonl] [--out results.jsonl]
                                          [--exclude train.jsonl ...]
    python benchmarks/gsmhard_accuracy.py --summarize results.jsonl [more.jsonl ...]

`--exclude` drops the problems whose ids a compile trained on, so the first N
are problems that compile never saw (the GSM-Hard-at-large measurement:
tests/fixtures/frontier/gsmhard-large/).

`--start K` skips the first K of those problems, so a slow plan (PAL + SC) can be
split across processes; `--summarize` reads the per-item files (`--out`) of such
runs and prints the table over the problems every plan answered, so plans that
got through different numbers of problems are still compared on the same ones.

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
    parser.add_argument("--start", type=int, default=0, help="skip the first K problems (after --exclude)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--plans", nargs="+", type=Path, default=DEFAULT_PLANS)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/gsmhard-dev.jsonl")
    parser.add_argument("--out", type=Path, default=None, help="per-item results (JSONL)")
    parser.add_argument("--exclude", type=Path, nargs="*", default=[],
                        help="example files (JSONL with ids) whose problems are left out")
    parser.add_argument("--summarize", type=Path, nargs="+", default=None,
                        help="print the table from per-item files of earlier runs instead of running")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return

    seen = {json.loads(line)["id"] for path in args.exclude for line in path.read_text().splitlines() if line.strip()}
    rows = [row for row in map(json.loads, args.data.read_text().splitlines()) if row["id"] not in seen]
    rows = rows[args.start: args.start + args.n]
    student = LlamaStudent(args.model)
    out = open(args.out, "w") if args.out else None
    summary = []
    for plan_path in args.plans:
        plan = load_plan(plan_path)
        items = []
        with Executor(plan, student=student, plan_dir=plan_path.parent) as executor:
            for row in rows:
                started = time.perf_counter()
                result = executor.run({"question": row["input"]})
                elapsed = time.perf_counter() - started
                item = {"plan": plan.name, "id": row["id"], "target": row["target"], "output": result.output,
                        "correct": result.ok and abs(result.output - row["target"]) < 1e-3, "seconds": elapsed,
                        "tokens_out": sum(r.tokens_out for r in result.trace),
                        "error": result.error.to_dict() if result.error else None}
                items.append(item)
                if out:
                    out.write(json.dumps({**item, "seconds": round(elapsed, 2)}) + "\n")
                    out.flush()
        summary.append(summary_row(plan.name, items))
    student.close()
    where = f"first {len(rows)}" if not args.start else f"{len(rows)} from the {args.start + 1}th"
    print(f"model: {student.model_name}   problems: {where} of {args.data.name}"
          + (f" not in {', '.join(p.name for p in args.exclude)} ({len(seen)} left out)" if seen else ""))
    print_table(summary, len(rows))


def print_table(summary: list[tuple[str, int, int, float, float]], n: int) -> None:
    print(f"{'plan':22} {'correct':>9} {'accuracy':>9} {'node errors':>12} {'s/problem':>10} {'tokens out':>11}")
    for name, correct, failed, per_item, toks in summary:
        print(f"{name:22} {correct:>5}/{n:<3} {correct / n:9.1%} {failed:12} {per_item:10.1f} {toks:11.0f}")


def summarize(paths: list[Path]) -> None:
    """The table over the problems that every plan in the per-item files answered."""
    by_plan: dict[str, dict[str, dict]] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                by_plan.setdefault(item["plan"], {})[item["id"]] = item
    if not by_plan:
        raise SystemExit(f"no per-item rows in {', '.join(map(str, paths))}")
    common = set.intersection(*(set(items) for items in by_plan.values()))
    if not common:
        raise SystemExit("the plans share no problem: nothing to compare")
    print(f"problems every plan answered: {len(common)} "
          f"({', '.join(f'{name}: {len(items)}' for name, items in by_plan.items())} answered in all)")
    print_table([summary_row(name, [items[i] for i in sorted(common)]) for name, items in by_plan.items()],
                len(common))


def summary_row(name: str, items: list[dict]) -> tuple[str, int, int, float, float]:
    """(plan, correct, node errors, seconds per problem, tokens out per problem) over per-item rows."""
    return (name, sum(i["correct"] for i in items), sum(i["error"] is not None for i in items),
            sum(i["seconds"] for i in items) / len(items), sum(i["tokens_out"] for i in items) / len(items))


if __name__ == "__main__":
    main()
