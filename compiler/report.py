"""The compile report: a Markdown page a reviewer reads next to the plan diff."""

from __future__ import annotations

from sgde.runtime.executor import llm_nodes

from .history import CandidateEvent, CritiqueEvent, ReplyRejectedEvent, ScoreSummary
from .loop import CompileResult


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


#: a plan of code alone parses its raw inputs itself: the m examples (and any held-out ones, drawn from the
#: same source) cannot show how that parsing fares on inputs worded otherwise
NO_STUDENT = ("- the plan runs no student: teacher-written code alone computes the output from the raw inputs. "
              "Its scores here are on inputs like the training examples; read how it parses them "
              "(`sgde review`) before trusting it on inputs worded otherwise")


def render_report(result: CompileResult) -> str:
    state = result.state
    plan = result.plan
    usage = state.usage
    held = state.holdout  # None without --holdout: the report is then what it always was
    lines = [f"# Compile report: {plan.name}", "",
             f"- stop: {state.stop}",
             f"- final score on the training examples: {state.score}"]
    if held is not None:
        lines.append(f"- final score on the {result.holdout} held-out examples (never shown to the teacher): {held}")
    if not llm_nodes(plan):
        lines.append(NO_STUDENT)
    lines += [f"- teacher: `{plan.provenance.teacher}`; calls: {state.teacher_calls}; tokens in/out: "
              f"{usage.input_tokens}/{usage.output_tokens} (cache read {usage.cache_read_tokens}, cache write "
              f"{usage.cache_write_tokens}); USD: {usage.usd:.4f}; teacher seconds: {usage.seconds:.1f}",
              f"- student: `{plan.provenance.student_model}` (sha256 {plan.provenance.student_sha256})"
              + _build(plan.provenance.student_build),
              f"- plan content hash: `{plan.content_hash()}`", "", "## Score per iteration", ""]
    if held is None:
        lines += ["| iteration | correct | total | student tokens | change |", "|---:|---:|---:|---:|---|"]
    else:
        lines += ["| iteration | correct | total | held-out correct | held-out total | student tokens | change |",
                  "|---:|---:|---:|---:|---:|---:|---|"]
    for row in state.scores:
        heldout = "" if held is None else f"{_held(row.holdout, 'correct')} | {_held(row.holdout, 'total')} | "
        lines.append(f"| {row.iteration} | {row.correct} | {row.total} | {heldout}{row.tokens} | {_cell(row.change)} |")
    lines += ["", "## Candidates", "", "| iteration | candidate | edits | verdict | reason / score |",
              "|---:|---:|---|---|---|"]
    for event in state.history:
        if isinstance(event, CandidateEvent):
            detail = event.reason or (event.score.to_json() if event.score is not None else None)
            if event.reason is None and event.holdout is not None:
                detail = f"{detail}; held-out {event.holdout.correct}/{event.holdout.total}"
            lines.append(f"| {event.iteration} | {event.candidate} | {_cell(', '.join(event.edits))} "
                         f"| {event.event} | {_cell(detail)[:400]} |")
        elif isinstance(event, ReplyRejectedEvent):
            lines.append(f"| {event.iteration} | - | - | reply rejected | {_cell(event.reason)[:400]} |")
    critiques = [e for e in state.history if isinstance(e, CritiqueEvent)]
    if critiques:
        lines += ["", "## Critiques (the semantic gradient)", ""]
        for critique in critiques:
            lines.append(f"- iteration {critique.iteration}, node `{critique.node}`: {_cell(critique.critique)} "
                         f"→ {_cell(critique.direction)}")
    verified = [(e.iteration, v) for e in state.history if isinstance(e, CandidateEvent) and e.accepted
                for v in e.verified_code or ()]
    if verified:
        lines += ["", "## Verified code in accepted candidates", ""]
        for iteration, verdict in verified:
            notes = "; ".join(verdict.notes) or "no audit findings"
            lines.append(f"- iteration {iteration}, node `{verdict.node}` sha256 `{verdict.sha256[:16]}…`: "
                         f"{_count(verdict.examples, 'example')} and {_count(verdict.draws, 'hypothesis draw')} "
                         f"passed; {notes}")
    return "\n".join(lines) + "\n"


def _held(summary: ScoreSummary | None, name: str) -> str:
    return "-" if summary is None else str(getattr(summary, name))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _build(build: dict[str, object] | None) -> str:
    if not build:
        return ""
    return f"; {build.get('n_threads')} threads, llama-cpp-python {build.get('llama_cpp_python')}"
