"""Compare sgde with DSPy (MIPROv2, GEPA) and PAL baselines: one student, one teacher, the same unseen variants.

For each recorded family (tests/fixtures/frontier/*/) it draws N unseen variants (seed 2 from family.yaml, the
families sampler: the same draw for every method) and scores, on one shared llama.cpp student:

- ``seed``      the task's seed plan (examples/gsmhard/task.yaml: one student node that answers directly)
- ``pal``       examples/gsmhard/pal.yaml (the student writes solution(), the sandbox runs it)
- ``pal_sc``    examples/gsmhard/pal_sc.yaml (PAL sampled 5 times, majority vote)
- ``dspy-mipro-cot``, ``dspy-mipro-pot``, ``dspy-gepa-cot``, ``dspy-gepa-pot``: DSPy's MIPROv2 / GEPA optimising
  ``ChainOfThought("question -> answer: float")`` (cot) or a program of thought whose solution() runs in sgde's
  sandbox (pot) on the family's first m training examples (train.jsonl), sgde's teacher interface as DSPy's
  prompt/reflection model (see dspy_adapters.py); ``dspy-mipro``, ``dspy-gepa`` and ``dspy`` name groups
- ``sgde-m1``, ``sgde-m3``, ``sgde-m5`` (or ``sgde``): the plans compiled at m = 1, 3, 5 with a frontier teacher
  for the default student (plan-mM.yaml); their teacher cost is read from the recorded transcript-mM.jsonl
- ``sgde-own-m1``, ``sgde-own-m3``, ``sgde-own-m5`` (or ``sgde-own``): the plans compiled for the student this run
  uses (``--model``), recorded in the family's subfolder named after it (e.g. smollm2-135m/plan-m3.yaml); a
  family without one is skipped

Columns: student, accuracy (|pred - answer| < 1e-3), seconds and student tokens per item, teacher calls and
teacher characters (request + reply as compact JSON, the same count for DSPy's transcripts and sgde's). Writes
OUT/compare.md (the table), OUT/compare.json (one object per row) and OUT/compare.png (accuracy against m;
methods without an m are horizontal lines). Rows pooled over families ("all") only for methods run on every one.

``--render A/compare.json B/compare.json ...`` runs nothing: it merges the rows of separate runs (other methods,
families or students, e.g. ``--model qwen2.5-coder-0.5b --methods sgde``) into one table and plot in OUT.

DSPy's teacher: by default the recorded transcripts DSPYDIR/<family>-<optimizer>-<program>-m<m>.jsonl are
replayed, with no teacher at all (and an error naming each missing one). ``--teacher SPEC`` records them
(resuming one that exists; ``--dspy-fresh`` starts it anew), e.g. a frontier model through the file-drop relay:

    python benchmarks/compare.py --teacher "command:python -m sgde.compiler.teachers.relay --dir /tmp/relay"

Each optimised program is saved beside its transcript (<...>.program.json); ``--dspy-saved`` scores those on the
variants without optimising again (no teacher, none of the optimisation's student calls): how the DSPy programs
optimised once are scored on more variants.

    python benchmarks/compare.py [--families ID ...] [--variants 50] [--methods NAME ...] [--dspy-m 3 ...]
                                 [--teacher SPEC | --dspy-saved] [--dspy-fresh] [--model NAME|GGUF]
                                 [--out-dir DIR] [--dspy-dir DIR]
                                 [--mipro-candidates 4] [--mipro-trials 8] [--gepa-evals 10]
    python benchmarks/compare.py --render RUN/compare.json ... [--out-dir DIR]

Needs the bench extra for the DSPy methods and the plot (pip install -e ".[bench]"); the plan methods run
without it. Replays of DSPy transcripts are exact only with the recording's student build and thread count
(SGDE_N_THREADS), as for sgde's own transcripts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from sgde.compiler.evaluate import evaluate
from sgde.compiler.families import Variant, load_family, sample_family
from sgde.compiler.task import load_task, seed_plan
from sgde.compiler.teachers import load_transcript
from sgde.compiler.teachers.transcript import recorded_threads
from sgde.runtime.errors import SgdeError
from sgde.runtime.executor import Executor
from sgde.runtime.plan import Plan
from sgde.runtime.plan_io import load_plan
from sgde.runtime.sandbox import make_backend
from sgde.runtime.student.llama import LlamaStudent
from sgde.runtime.student.models import DEFAULT_MODEL, MODELS

REPO = Path(__file__).resolve().parent.parent
FRONTIER = REPO / "tests" / "fixtures" / "frontier"
TASK = REPO / "examples" / "gsmhard" / "task.yaml"
PAL = REPO / "examples" / "gsmhard" / "pal.yaml"
PAL_SC = REPO / "examples" / "gsmhard" / "pal_sc.yaml"
RESULTS = REPO / "benchmarks" / "results"

PLAN_METHODS = ("seed", "pal", "pal_sc")
OPTIMIZERS = ("mipro", "gepa")
PROGRAMS = ("cot", "pot")
DSPY_METHODS = tuple(f"dspy-{o}-{p}" for o in OPTIMIZERS for p in PROGRAMS)
SGDE_MS = (1, 3, 5)
SGDE_METHODS = tuple(f"sgde-m{m}" for m in SGDE_MS)
OWN_METHODS = tuple(f"sgde-own-m{m}" for m in SGDE_MS)  # compiled for the run's own student
ALL_METHODS = PLAN_METHODS + DSPY_METHODS + SGDE_METHODS + OWN_METHODS
GROUPS = {"dspy": DSPY_METHODS, "sgde": SGDE_METHODS, "sgde-own": OWN_METHODS,
          **{f"dspy-{o}": tuple(f"dspy-{o}-{p}" for p in PROGRAMS) for o in OPTIMIZERS}}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def expand_methods(names: list[str]) -> list[str]:
    chosen: list[str] = []
    for name in names:
        for method in GROUPS.get(name, (name,)):
            if method not in ALL_METHODS:
                raise SystemExit(f"error: unknown method {name!r}; known: {', '.join(ALL_METHODS)} "
                                 f"(groups: {', '.join(GROUPS)})")
            if method not in chosen:
                chosen.append(method)
    return [m for m in ALL_METHODS if m in chosen]  # a fixed order, whatever the command line's


def transcript_path(dspy_dir: Path, family: str, method: str, m: int) -> Path:
    _, optimizer, program = method.split("-")
    return dspy_dir / f"{family}-{optimizer}-{program}-m{m}.jsonl"


def program_path(dspy_dir: Path, family: str, method: str, m: int) -> Path:
    """The optimised program, saved beside its transcript."""
    return transcript_path(dspy_dir, family, method, m).with_suffix(".program.json")


def teacher_cost(path: Path) -> dict[str, int]:
    """Teacher calls and request+reply characters (compact JSON) of a transcript; the one measure for all."""
    calls = load_transcript(path)

    def compact(value: Any) -> int:
        return len(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    return {"teacher_calls": len(calls),
            "teacher_chars": sum(compact(c["request"]) + compact(c["reply"]["data"]) for c in calls)}


def row_of(family: str, method: str, m: int | None, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    n = len(items)
    errors: dict[str, int] = {}
    for item in items:
        if item.get("error"):
            kind = str(item["error"]).split(":")[0] if not isinstance(item["error"], dict) else item["error"]["type"]
            errors[kind] = errors.get(kind, 0) + 1
    correct = sum(bool(item["correct"]) for item in items)
    row = {"family": family, "method": method, "m": m, "n": n, "correct": correct,
           "accuracy": correct / n if n else 0.0,
           "seconds_per_item": sum(i["seconds"] for i in items) / n if n else 0.0,
           "tokens_in_per_item": sum(i["tokens_in"] for i in items) / n if n else 0.0,
           "tokens_out_per_item": sum(i["tokens_out"] for i in items) / n if n else 0.0,
           "teacher_calls": 0, "teacher_chars": 0, "errors": errors}
    row.update(extra)
    row["items"] = items
    return row


# --- plan methods ----------------------------------------------------------------------------------------------


def compiled_dir(family_dir: Path, student: LlamaStudent) -> Path | None:
    """Where a family's plans compiled for this student are recorded: the family's own folder for the default
    student, its subfolder named after a known smaller one (None for a GGUF of no known name)."""
    name = next((spec.name for spec in MODELS.values() if spec.filename == student.model_path.name), None)
    if name is None:
        return None
    return family_dir if name == DEFAULT_MODEL else family_dir / name


def plan_for(method: str, family_dir: Path, student: LlamaStudent) -> tuple[Plan, Path] | None:
    """The method's plan and the folder its relative paths resolve against, and for the sgde methods the
    transcript that recorded it; None when the family has no such plan."""
    if method == "seed":
        return seed_plan(load_task(TASK), TASK), TASK.parent
    if method == "pal":
        return load_plan(PAL), PAL.parent
    if method == "pal_sc":
        return load_plan(PAL_SC), PAL_SC.parent
    folder = compiled_dir(family_dir, student) if method.startswith("sgde-own-") else family_dir
    path = folder / f"plan-m{sgde_m(method)}.yaml" if folder is not None else None
    return (load_plan(path), path.parent) if path is not None and path.exists() else None


def sgde_m(method: str) -> int | None:
    """sgde-m3 and sgde-own-m3 -> 3; None for a method without m."""
    return int(method.rsplit("-m", 1)[1]) if method.startswith("sgde-") else None


def run_plan(method: str, family_dir: Path, variants: list[Variant], student: LlamaStudent,
             sandboxes: dict[str, Any]) -> dict[str, Any] | None:
    family = family_dir.name
    found = plan_for(method, family_dir, student)
    if found is None:
        log(f"{family} {method}: no plan recorded for {student.model_name}; skipped")
        return None
    plan, plan_dir = found
    m = sgde_m(method)
    executor = Executor(plan, student=student, sandboxes=sandboxes, plan_dir=plan_dir)

    def progress(index: int, item: Any) -> None:
        log(f"  {family} {method} {index + 1}/{len(variants)} {'ok' if item.correct else 'x'} ({item.seconds:.1f} s)")
    try:
        report = evaluate(executor, variants, progress, model=student.model_name)
    finally:
        executor.close()
    items = [{"id": i.id, "answer": i.answer, "prediction": i.prediction, "correct": i.correct,
              "error": i.error, "seconds": i.seconds, "tokens_in": i.tokens_in, "tokens_out": i.tokens_out}
             for i in report.items]
    cost = teacher_cost(plan_dir / f"transcript-m{m}.jsonl") if m is not None else {}
    return row_of(family, method, m, items, plan=plan.name, plan_sha256=plan.content_hash(), **cost)


# --- DSPy methods ----------------------------------------------------------------------------------------------


def run_dspy(method: str, m: int, family_dir: Path, variants: list[Variant], args: argparse.Namespace,
             student: LlamaStudent, adapters: Any, state: dict[str, Any]) -> dict[str, Any]:
    family = family_dir.name
    _, optimizer, program_kind = method.split("-")
    path = transcript_path(args.dspy_dir, family, method, m)
    train_rows = [json.loads(line) for line in (family_dir / "train.jsonl").read_text().splitlines() if line.strip()]
    if len(train_rows) < m:
        raise SystemExit(f"error: {family_dir / 'train.jsonl'} has {len(train_rows)} examples, m={m} asked for")
    trainset = adapters.examples_from(train_rows[:m])
    student_lm = state["student_lm"]
    if args.dspy_saved:
        saved = program_path(args.dspy_dir, family, method, m)
        optimised = adapters.load_program(program_kind, state["pal_sandbox"], saved)
        log(f"{family} {method} m={m}: scoring the saved program {saved} (not optimised again)")
        items = score_dspy(optimised, student_lm, adapters, family, method, m, variants)
        return row_of(family, method, m, items, transcript=str(path), teacher_mode="saved program",
                      program=str(saved), program_sha256=hashlib.sha256(saved.read_bytes()).hexdigest(),
                      **(teacher_cost(path) if path.exists() else {}))
    teacher = adapters.recorded_teacher(path, args.teacher, fresh=args.dspy_fresh, student_build=state["build"])
    teacher_lm = adapters.TeacherLM(teacher)
    mode = "replaying" if args.teacher is None else ("recording" if not teacher.recorded else "resuming")
    log(f"{family} {method} m={m}: {mode} {path} ({len(teacher.recorded)} recorded calls)")
    adapters.configure_dspy(student_lm, seed=0)
    program = adapters.make_program(program_kind, state["pal_sandbox"])
    before = student_lm.usage.snapshot()
    started = time.perf_counter()
    try:
        optimised = adapters.optimise(optimizer, program, trainset, teacher_lm, student_lm, args.budgets)
        adapters.check_replayed(teacher)
    finally:
        teacher.close()
    optimise_seconds = time.perf_counter() - started
    spent = student_lm.usage.since(before)
    log(f"{family} {method} m={m}: optimised in {optimise_seconds:.0f} s, {teacher_lm.usage.calls} teacher calls, "
        f"{spent.calls} student calls")
    try:
        optimised.save(str(program_path(args.dspy_dir, family, method, m)))
    except Exception as exc:  # a record for reading, not needed to score
        log(f"  (could not save the optimised program: {exc})")
    items = score_dspy(optimised, student_lm, adapters, family, method, m, variants)
    return row_of(family, method, m, items, transcript=str(path), teacher_mode=mode,
                  budgets=args.budgets.describe(m), optimise_seconds=round(optimise_seconds, 1),
                  optimise_student_calls=spent.calls, optimise_student_tokens_out=spent.tokens_out,
                  **teacher_cost(path))


def score_dspy(program: Any, student_lm: Any, adapters: Any, family: str, method: str, m: int,
               variants: list[Variant]) -> list[dict[str, Any]]:
    items = []
    for index, variant in enumerate(variants):
        outcome = adapters.run_item(program, student_lm, variant.id, variant.input["question"], variant.answer)
        items.append(outcome.model_dump(mode="json"))
        log(f"  {family} {method} m={m} {index + 1}/{len(variants)} {'ok' if outcome.correct else 'x'} "
            f"({outcome.seconds:.1f} s)")
    return items


# --- output ----------------------------------------------------------------------------------------------------


def pooled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (student, method, m) run on every family: accuracy over all items, costs per family summed.
    A method run on only some families gets no pooled row (its items would not be the others')."""
    families = {row["family"] for row in rows}
    groups: dict[tuple[str, str, Any], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["student"], row["method"], row["m"]), []).append(row)
    out = []
    for (student, method, m), group in groups.items():
        if {row["family"] for row in group} != families:
            continue
        items = [item for row in group for item in row["items"]]
        row = row_of("all", method, m, items, teacher_calls=sum(r["teacher_calls"] for r in group),
                     teacher_chars=sum(r["teacher_chars"] for r in group), student=student)
        out.append(row)
    return out


def short_student(name: str) -> str:
    """qwen2.5-coder-0.5b-instruct-q4_k_m.gguf -> qwen2.5-coder-0.5b"""
    return name.removesuffix(".gguf").split("-instruct")[0].split(".Q")[0]


def method_label(row: dict[str, Any], main_student: str) -> str:
    """The method, with its student when that is not the table's main (first) student."""
    return row["method"] if row["student"] == main_student else f"{row['method']} @ {short_student(row['student'])}"


def markdown(rows: list[dict[str, Any]], header: str) -> str:
    lines = [header, "",
             "| family | student | method | m | n | accuracy | s/item | student tok in/item | student tok out/item "
             "| teacher calls | teacher chars | errors |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(r["errors"].items())) or ""
        lines.append(f"| {r['family']} | {short_student(r['student'])} | {r['method']} "
                     f"| {r['m'] if r['m'] is not None else ''} | {r['n']} "
                     f"| {r['accuracy']:.1%} ({r['correct']}/{r['n']}) | {r['seconds_per_item']:.1f} "
                     f"| {r['tokens_in_per_item']:.0f} | {r['tokens_out_per_item']:.0f} | {r['teacher_calls']} "
                     f"| {r['teacher_chars']:,} | {errors} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed (pip install -e '.[bench]'): no plot")
        return False
    panels = sorted({r["family"] for r in rows if r["family"] != "all"})
    if len(panels) > 1:
        panels.append("all")
    ncols = 1 if len(panels) == 1 else 2
    nrows = -(-len(panels) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(6 * ncols, 3.8 * nrows), squeeze=False, sharey=True)
    axes = list(grid.flat)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    ms = sorted({r["m"] for r in rows if r["m"] is not None}) or [1, 3, 5]
    colours = plt.get_cmap("tab10")
    main_student = rows[0]["student"]

    def line_of(row: dict[str, Any]) -> str:  # the sgde-mM rows of one student make one line
        name = method_label(row, main_student)
        line = "sgde-own" if row["method"].startswith("sgde-own-") else "sgde"
        return line + name.removeprefix(row["method"]) if row["method"].startswith("sgde-") else name
    lines = list(dict.fromkeys(line_of(r) for r in sorted(rows, key=lambda r: (
        r["student"] != main_student, ALL_METHODS.index(r["method"])))))
    styles = {line: colours(i % 10) for i, line in enumerate(lines)}
    for ax, panel in zip(axes, panels, strict=False):
        mine = [r for r in rows if r["family"] == panel]
        for method in lines:
            points = sorted((r["m"], r["accuracy"]) for r in mine if line_of(r) == method)
            if not points:
                continue
            if points[0][0] is None:
                ax.axhline(points[0][1], linestyle="--", color=styles[method], label=method)
            else:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=styles[method],
                        label=method)
        ns = sorted({r["n"] for r in mine}) or [0]  # merged runs may differ: a costly method ran on fewer
        n = str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
        ax.set_title(f"{panel} ({n} variants)" if panel != "all" else f"all families ({n} items)")
        ax.set_xlabel("m (training examples)")
        ax.set_xticks(ms)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    for row in grid:
        row[0].set_ylabel("accuracy on unseen variants")
    handles, labels = [], []
    for ax in axes[:len(panels)]:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.tight_layout()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
               title="dashed: no m")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return True


# --- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", help="family ids (default: every one under tests/fixtures/frontier)")
    parser.add_argument("--variants", type=int, default=50, help="unseen variants per family (seed 2)")
    parser.add_argument("--methods", nargs="+", default=list(ALL_METHODS),
                        help=f"of {', '.join(ALL_METHODS)}; groups: {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--dspy-m", nargs="+", type=int, default=[3], help="training examples DSPy optimises on")
    parser.add_argument("--teacher", default=None, help="teacher spec for DSPy's optimisers (default: replay the "
                        "recorded transcripts)")
    parser.add_argument("--dspy-fresh", action="store_true", help="with --teacher: record the transcripts anew "
                        "instead of resuming them")
    parser.add_argument("--dspy-saved", action="store_true", help="score the programs optimised earlier "
                        "(DSPYDIR/*.program.json) instead of optimising again: no teacher, no optimisation")
    parser.add_argument("--model", default=None, help="student: known name or GGUF (default: qwen2.5-coder-1.5b)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument("--dspy-dir", type=Path, default=None, help="DSPy transcripts (default: OUT/dspy)")
    parser.add_argument("--mipro-candidates", type=int, default=4)
    parser.add_argument("--mipro-trials", type=int, default=8)
    parser.add_argument("--mipro-demos", type=int, default=4)
    parser.add_argument("--gepa-evals", type=int, default=10, help="GEPA's max_metric_calls per training example")
    parser.add_argument("--render", nargs="+", type=Path, metavar="JSON",
                        help="run nothing: merge the rows of these compare.json files into OUT's table and plot")
    args = parser.parse_args()
    if args.render:
        render(args.render, args.out_dir)
        return
    args.dspy_dir = args.dspy_dir or args.out_dir / "dspy"
    if args.variants < 1 or any(m < 1 for m in args.dspy_m):
        raise SystemExit("error: --variants and --dspy-m must be >= 1")

    methods = expand_methods(args.methods)
    family_dirs = sorted(p for p in FRONTIER.iterdir() if (p / "family.yaml").exists())
    if args.families:
        unknown = sorted(set(args.families) - {p.name for p in family_dirs})
        if unknown:
            raise SystemExit(f"error: unknown families {unknown}; known: {[p.name for p in family_dirs]}")
        family_dirs = [p for p in family_dirs if p.name in args.families]
    if "pal_sc" in methods:
        try:
            load_plan(PAL_SC)
        except SgdeError as exc:
            log(f"pal_sc skipped: {PAL_SC.relative_to(REPO)} cannot be used yet ({exc.message})")
            methods.remove("pal_sc")

    dspy_methods = [m for m in methods if m.startswith("dspy-")]
    adapters = None
    if dspy_methods:
        try:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            import dspy_adapters as adapters
        except ImportError as exc:
            raise SystemExit(f"error: the DSPy methods need the bench extra (pip install -e '.[bench]'): {exc}") \
                from None
        args.budgets = adapters.Budgets(mipro_candidates=args.mipro_candidates, mipro_trials=args.mipro_trials,
                                        mipro_demos=args.mipro_demos, gepa_evals_per_example=args.gepa_evals)
        if args.dspy_saved and args.teacher is not None:
            raise SystemExit("error: --dspy-saved scores saved programs, it asks no teacher: drop --teacher")
        if args.dspy_saved:
            programs = [program_path(args.dspy_dir, f.name, method, m)
                        for f in family_dirs for method in dspy_methods for m in args.dspy_m]
            missing = [p for p in programs if not p.exists()]
            if missing:
                listed = "\n  ".join(str(p) for p in missing)
                raise SystemExit(f"error: no saved DSPy program\n  {listed}\nto score: optimise first (without "
                                 "--dspy-saved)")
        elif args.teacher is None:
            missing = [transcript_path(args.dspy_dir, f.name, method, m) for f in family_dirs
                       for method in dspy_methods for m in args.dspy_m
                       if not transcript_path(args.dspy_dir, f.name, method, m).exists()]
            if missing:
                listed = "\n  ".join(str(p) for p in missing)
                raise SystemExit(f"error: a teacher is needed: no recorded DSPy transcript\n  {listed}\nto replay. "
                                 "Record them with --teacher SPEC (e.g. --teacher 'command:python -m "
                                 "sgde.compiler.teachers.relay --dir DIR' for a frontier model at the relay), or "
                                 "leave the DSPy methods out (--methods seed pal pal_sc sgde).")
        for m in args.dspy_m if not args.dspy_saved else ():
            log(f"DSPy budgets at m={m}: {args.budgets.describe(m)}")

    args.out_dir.mkdir(parents=True, exist_ok=True)
    student = LlamaStudent(args.model)
    sandboxes = {"restricted": make_backend("restricted")}
    state: dict[str, Any] = {"build": student.build_info()}
    if adapters is not None:
        state["student_lm"] = adapters.StudentLM(student)
        state["pal_sandbox"] = adapters.PalSandbox(sandboxes["restricted"])
        if args.teacher is None and not args.dspy_saved:
            for f in family_dirs:
                for method in dspy_methods:
                    for m in args.dspy_m:
                        path = transcript_path(args.dspy_dir, f.name, method, m)
                        threads = recorded_threads(load_transcript(path))
                        if threads is not None and threads != student.n_threads:
                            log(f"warning: {path.name} was recorded with {threads} student threads, this student "
                                f"has {student.n_threads}: set SGDE_N_THREADS={threads} for an exact replay")
    rows: list[dict[str, Any]] = []
    json_path = args.out_dir / "compare.json"
    started = time.perf_counter()
    try:
        for family_dir in family_dirs:
            family = load_family(family_dir / "family.yaml")
            variants = sample_family(family, args.variants, seed=2, backend=sandboxes["restricted"])
            log(f"{family.id}: {len(variants)} unseen variants (seed 2)")
            for method in methods:
                if method.startswith("dspy-"):
                    new = [run_dspy(method, m, family_dir, variants, args, student, adapters, state)
                           for m in args.dspy_m]
                else:
                    row = run_plan(method, family_dir, variants, student, sandboxes)
                    new = [row] if row is not None else []
                for row in new:
                    row["student"], row["threads"] = student.model_name, state["build"]["n_threads"]
                rows.extend(new)
                json_path.write_text(json.dumps(rows, indent=1, default=str) + "\n")  # partial results survive
    finally:
        if "pal_sandbox" in state:
            state["pal_sandbox"].close()
        for backend in sandboxes.values():
            backend.close()
        student.close()

    header = (f"{TITLE}\n\nstudent: {student.model_name} "
              f"({state['build']['n_threads']} threads); {args.variants} unseen variants per family (seed 2); "
              f"families: {', '.join(p.name for p in family_dirs)}; total {time.perf_counter() - started:.0f} s.")
    if dspy_methods and not args.dspy_saved:  # a saved program's budgets are its recording's
        header += "\n\nDSPy budgets: " + "; ".join(f"m={m}: {args.budgets.describe(m)}" for m in args.dspy_m)
    if dspy_methods:
        header += "\n\nDSPy teacher: " + (args.teacher or ("none: the programs saved in " if args.dspy_saved
                                                          else "replayed from ") + str(args.dspy_dir))
    write_outputs(rows, header, args.out_dir)


TITLE = "# sgde vs DSPy vs PAL on GSM-Hard families"


def write_outputs(rows: list[dict[str, Any]], header: str, out_dir: Path) -> None:
    """OUT/compare.md, compare.json (the family rows, then rows pooled over families) and compare.png."""
    families = {r["family"] for r in rows}
    summary = rows + (pooled(rows) if len(families) > 1 else [])
    table = markdown(summary, header)
    print(table)
    md_path, json_path, png_path = out_dir / "compare.md", out_dir / "compare.json", out_dir / "compare.png"
    md_path.write_text(table)
    json_path.write_text(json.dumps(summary, indent=1, default=str) + "\n")
    written = [md_path, json_path] + ([png_path] if plot(summary, png_path) else [])
    log("wrote " + ", ".join(str(p) for p in written))


def render(sources: list[Path], out_dir: Path) -> None:
    """One table and plot from the family rows of earlier runs' compare.json files (runs of different methods,
    families or students, made apart so each could have the machine to itself). A row that names no student
    takes the one its run's compare.md names; a (family, student, method, m) given twice keeps the later file's."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    headers = []
    for source in sources:
        try:
            rows = json.loads(source.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"error: cannot read rows from {source}: {exc}") from None
        md = source.with_name("compare.md")
        notes = md.read_text().split("\n\n| family")[0].split("\n\n")[1:] if md.exists() else []
        headers.append(f"From `{source.as_posix()}`:" + "".join(f"\n> {n}" for n in notes if n.strip()))
        named = next((n.split()[1] for n in notes if n.startswith("student: ")), None)
        for row in rows:
            if row["family"] == "all":
                continue  # pooled again below, over everything merged
            if "student" not in row:
                if named is None:
                    raise SystemExit(f"error: {source}: rows name no student and {md} does not either")
                row["student"] = named
            merged[(row["family"], row["student"], row["method"], row["m"])] = row
    if not merged:
        raise SystemExit("error: no family rows in " + ", ".join(map(str, sources)))
    out_dir.mkdir(parents=True, exist_ok=True)
    students = list(dict.fromkeys(row["student"] for row in merged.values()))  # the first file's is the main one
    rows = sorted(merged.values(), key=lambda r: (r["family"], students.index(r["student"]),
                                                  ALL_METHODS.index(r["method"]), r["m"] or 0))
    write_outputs(rows, TITLE + "\n\n" + "\n\n".join(headers), out_dir)


if __name__ == "__main__":
    main()
