"""What the compiler asks the teacher: the static instructions and the per-iteration payload.

The instructions are the cacheable part and never change within a compile; the
payload holds the plan, the traces of the forward pass and the history of
accepted and rejected candidates, so a teacher sees why its last edits failed.
"""

from __future__ import annotations

from typing import Any, Sequence

from sgde.runtime.plan import LlmNode, Plan
from sgde.runtime.plan_io import dumps_yaml
from sgde.runtime.policy import Policy
from sgde.runtime.student import Student

from .edits import CritiqueReply
from .forward import PROBE_TEMPERATURE, Outcome, PlanScore
from .history import HistoryEvent
from .task import Example, Task
from .teachers import TeacherRequest

CRITIQUE_INSTRUCTIONS_V1 = """\
You are the teacher in SGDe (semantic gradient descent), a compiler that turns a task into an execution plan \
for a small student language model running on a CPU. You never run at inference time: the plan you help build \
must work with the student alone, on inputs of this task that neither of us has seen.

You receive the current plan (YAML), the student's traces on m training examples (k samples each: every \
node's inputs, raw text, parsed output and errors), per-node statistics, and the history of candidates \
accepted and rejected (with the reason each was rejected). Do two things:

1. critiques: for each node that was wrong or unstable in the traces, say in plain language what went wrong \
and in which direction the node should change (the semantic gradient). Point at the node, not the whole plan.
2. candidates: up to 3 alternative changes, best first. Each candidate is a list of typed edits applied \
together. Edits:
   - rewrite_prompt: new system prompt / user template / shots (worked examples as prior chat turns) / max_tokens.
   - offload_to_code (capability offloading): the node becomes deterministic Python written by you, for what \
the student cannot do reliably (arithmetic on large numbers, unit conversion, parsing numbers, dates). Give \
`source` defining run(inputs) -> dict, where inputs has one key per name the node reads (plan inputs and \
upstream node outputs: an llm node's parsed output, a code node's returned dict), and `properties`.
   - wrap_consensus (structural consensus): sample an llm node n times at a temperature and vote (majority \
with numeric tolerance, or median), optionally stopping early on agreement. For nodes whose outputs vary: \
across samples (node_stats.distinct_outputs_per_example), or under the stability probe, which resamples \
each greedy llm node once per example (node_stats.probe_same_as_greedy; a greedy answer that a light \
resampling changes may be right by luck).
   - insert_node / replace_node: add or redefine an llm or code node (a split is an insert plus a replace); \
set_grammar: constrain an llm node's decoding (e.g. {"from_json_schema": true} with a json parser so the \
student must emit a JSON object of that schema); remove_node; set_output: which node (or node.key) the plan \
returns.

Rules that decide acceptance (you will be told when a candidate fails one):
- Code is audited before it runs: plain functions only; no classes, no decorators, no names or attributes \
starting with an underscore, no eval/exec/open/getattr/globals, imports only from the allowed list given \
in the payload. run() must return a dict of JSON values. Every code node must carry properties: a strategy \
per input (integer/number/string/choice/template/object/list), invariants (Python expressions over `inputs` \
and `output` that hold for every draw) and examples (fixed inputs with expected output fields). They run \
under hypothesis in the sandbox; a failing draw rejects the candidate.
- A candidate is scored on the training examples with the real student: it is accepted only if it gets more \
(example, sample) pairs right than the current plan, or as many with fewer student tokens. A worse plan is \
never accepted.
- Generalise: the plan will be scored on unseen inputs of the same task; the payload's task.variation says how \
they differ from the training examples. Never hard-code an example's values or wording. A good division of \
labour: the student reads (e.g. extracts the quantities as a JSON object under a grammar), code computes.
Prefer the smallest change that fixes the failing or unstable node.
"""

#: what `node` of wrap_consensus may name since protocol 2 (the edit's schema is unchanged)
_SUB_PLAN_CONSENSUS = """\
     `node` may also name a code node: then the sub-plan that computes it (the node and the upstream llm and \
code nodes only it reads, e.g. an llm that writes a program and the code node that runs it) is sampled n times \
as one unit, each sample's llm nodes with seed+i at the temperature, and the vote is over its output (`key`: one \
field of it). For a chain that is unstable as a whole rather than one node; in the traces each sample's nodes \
carry its sample index.
"""

#: what protocol 3 adds: the payload names the student, and small students get their known weakness spelled out
_STUDENT_FIT = """\
- Fit the plan to the student the payload names (`student`: model file and parameter count): the smaller it is, \
the less it can be trusted to copy text. A student of a few hundred million parameters miscopies digits of long \
numbers and drifts on long outputs now and then, even where the m traces happen to show no slip. For such a \
student, let code take out of the input every value it would otherwise retype (for example, code labels the \
quantities of the text and the student answers with labels, which code resolves), keep what it writes short \
and fixed in shape under a grammar, and give it worked examples shaped like the inputs.
"""

#: what protocol 4 adds: the payload's budget, and what "student tokens" counts (teachers asked for both)
_BUDGET = """\
- The payload's `budget` says which teacher call this is (`teacher_call` of `max_teacher_calls`), how many \
iterations in a row have accepted nothing so far, and how many such iterations end the compile (`patience`). \
Student tokens in every score count what the student reads (prompt, worked examples) and what it writes.
"""

#: the version of what the compiler asks (the instructions; schemas are versioned with them): a replay speaks the
#: version its transcript was recorded with, so compiles recorded before a change still replay byte for byte
TEACHER_PROTOCOL = 4
_V2 = CRITIQUE_INSTRUCTIONS_V1.replace("resampling changes may be right by luck).\n",
                                      "resampling changes may be right by luck).\n" + _SUB_PLAN_CONSENSUS)
_V3 = _V2.replace("Prefer the smallest change", _STUDENT_FIT + "Prefer the smallest change")
CRITIQUE_INSTRUCTIONS = {
    1: CRITIQUE_INSTRUCTIONS_V1,
    2: _V2,
    3: _V3,
    4: _V3.replace("Prefer the smallest change", _BUDGET + "Prefer the smallest change"),  # 3 plus the budget
}


def student_card(student: Student) -> dict[str, Any]:
    """What the teacher is told of the student: its model file and size."""
    return {"model": student.model_name, "parameters": student.parameters}


def budget_card(*, call: int, max_calls: int, stalled: int, patience: int) -> dict[str, int]:
    """Where the compile stands against its limits when it asks: this call's number, and the stall count."""
    return {"teacher_call": call, "max_teacher_calls": max_calls, "iterations_without_acceptance": stalled,
            "patience": patience}


def recorded_protocol(calls: Sequence[dict[str, Any]]) -> int:
    """The protocol version a transcript's critique requests were made with (the latest when it has none)."""
    for call in calls:
        request = call.get("request", {})
        if request.get("kind") == "critique":
            for version, text in CRITIQUE_INSTRUCTIONS.items():
                if request.get("instructions") == text:
                    return version
            break  # unknown instructions: the replay reports the difference itself
    return TEACHER_PROTOCOL


def _clip(text: Any, limit: int) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + f"... [{len(text) - limit} more characters]"
    return text


def _node_view(record, raw_limit: int = 1200) -> dict[str, Any]:
    view: dict[str, Any] = {"node": record.node, "kind": record.kind}
    if record.sample is not None:
        view["sample"] = record.sample
    if record.kind == "llm":
        view["raw_text"] = _clip(record.raw_text, raw_limit)
    view["output"] = _clip(record.output, 600) if isinstance(record.output, str) else record.output
    if record.error:
        view["error"] = {k: _clip(v, 400) for k, v in record.error.items() if k in ("type", "message", "limit")}
    if record.agreement is not None:
        view["agreement"] = record.agreement
    if record.tokens_out:
        view["tokens_out"] = record.tokens_out
    return view


def failure_digest(outcomes: list[Outcome], limit: int = 2) -> list[dict[str, Any]]:
    """The first failing (example, sample) pairs of a rejected candidate, so the teacher sees why it lost."""
    digest = []
    for outcome in outcomes:
        if outcome.correct:
            continue
        digest.append({"example": outcome.example, "sample": outcome.sample, "output": outcome.output,
                       "error": None if outcome.error is None else
                       {k: _clip(v, 300) for k, v in outcome.error.items() if k in ("type", "message", "node")},
                       "nodes": [_node_view(r, raw_limit=300) for r in outcome.trace]})
        if len(digest) == limit:
            break
    return digest


def node_stats(plan: Plan, outcomes: list[Outcome], probes: Sequence[Outcome] = ()) -> dict[str, Any]:
    """Per node: runs, errors, how many distinct outputs it gave per example across samples, and, for a
    greedy llm node, whether the stability probe's resampled output matched the greedy one."""
    greedy = {(o.example, r.node): r.output for o in outcomes if o.sample == 0 for r in o.trace if r.sample is None}
    stats: dict[str, Any] = {}
    for node in plan.nodes:
        records = [(o.example, r) for o in outcomes for r in o.trace if r.node == node.id and r.sample is None]
        per_example: dict[str, set[str]] = {}
        for example, record in records:
            per_example.setdefault(example, set()).add(repr(record.output))
        stats[node.id] = {"runs": len(records), "errors": sum(1 for _, r in records if r.error),
                          "distinct_outputs_per_example": {k: len(v) for k, v in sorted(per_example.items())}}
        probed = [(o.example, r) for o in probes for r in o.trace if r.node == node.id and r.sample is None] \
            if isinstance(node, LlmNode) and node.sampling.temperature == 0 else []
        if probed:
            stats[node.id]["probe_same_as_greedy"] = {
                example: record.error is None and record.output == greedy.get((example, node.id))
                for example, record in probed}
            stats[node.id]["probe_outputs_that_differ"] = {
                example: _clip(record.output, 300) if record.error is None else {"error": record.error.get("type")}
                for example, record in probed
                if record.error is not None or record.output != greedy.get((example, node.id))}
    return stats


def probe_summary(probes: Sequence[Outcome]) -> dict[str, Any] | None:
    if not probes:
        return None
    return {"temperature": PROBE_TEMPERATURE, "correct": sum(o.correct for o in probes), "total": len(probes),
            "what": "every greedy llm node of the current plan resampled once per example at this temperature; "
                    "informs only, never scored"}


def critique_request(*, task: Task, plan: Plan, score: PlanScore, outcomes: list[Outcome],
                     examples: list[Example], history: Sequence[HistoryEvent], iteration: int,
                     policy: Policy, probes: Sequence[Outcome] = (), student: dict[str, Any] | None = None,
                     budget: dict[str, int] | None = None, protocol: int = TEACHER_PROTOCOL) -> TeacherRequest:
    """``student``: the model the plan is compiled for (`student_card`), sent from protocol 3 on; ``budget``:
    `budget_card`, sent from protocol 4 on."""
    by_example: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_example.setdefault(outcome.example, []).append(outcome)
    payload = {
        "task": {"name": task.name, "description": task.description, "variation": task.variation,
                 "inputs": {k: v.model_dump() for k, v in task.inputs.items()}, "output_type": task.output_type},
        "iteration": iteration,
        "plan_yaml": dumps_yaml(plan),
        "score": score.summary(),
        "examples": [{"id": e.id, "input": e.input, "answer": e.answer,
                      "samples": [{"sample": o.sample, "correct": o.correct, "output": o.output, "error": o.error,
                                   "nodes": [_node_view(r) for r in o.trace]}
                                  for o in by_example.get(e.id, [])]} for e in examples],
        "node_stats": node_stats(plan, outcomes, probes),
        "stability_probe": probe_summary(probes),
        "history": [event.to_json() for event in history[-12:]],
        "sandbox": {"policy": policy.name, "allowed_imports": list(policy.allowed_imports)},
    }
    if protocol >= 3:  # earlier transcripts were recorded without it, and replay byte for byte
        payload["student"] = student
    if protocol >= 4:
        payload["budget"] = budget
    return TeacherRequest(kind="critique", instructions=CRITIQUE_INSTRUCTIONS[protocol],
                          response_schema=CritiqueReply.model_json_schema(), payload=payload)
