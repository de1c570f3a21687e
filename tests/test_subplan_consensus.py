"""Consensus over a sub-plan: the IR, the executor (waves, batches, sub-traces), the edit, review and approval."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sgde.compiler.edits import Candidate, EditRejected, apply_candidate
from sgde.compiler.requests import CRITIQUE_INSTRUCTIONS, TEACHER_PROTOCOL, recorded_protocol
from sgde.compiler.review import data_flow, review_plan
from sgde.compiler.teachers import load_transcript
from sgde.runtime.aggregate import aggregate
from sgde.runtime.approval import unreviewed_nodes
from sgde.runtime.errors import ApprovalError, PlanError
from sgde.runtime.executor import Executor
from sgde.runtime.plan import ConsensusNode, MajorityAggregator
from sgde.runtime.plan_io import load_plan, parse_plan
from sgde.runtime.policy import load_policy
from sgde.runtime.student import Student

REPO = Path(__file__).resolve().parent.parent
FRONTIER = REPO / "tests/fixtures/frontier"

PICK = {"id": "pick", "kind": "llm", "reads": ["q"], "user": "{q}", "parser": {"kind": "number"},
        "grammar": {"gbnf": "root ::= [1-9]"},
        "sampling": {"temperature": 1.5, "max_tokens": 2, "seed": 20, "top_k": 0, "min_p": 0.0}}
#: doubles the digit; a 7 is a crash, so some samples are lost votes
DOUBLE = {"id": "double", "kind": "code", "reads": ["pick"],
          "source": "def run(inputs):\n    if inputs['pick'] == 7:\n        raise ValueError('seven')\n"
                    "    return {'value': inputs['pick'] * 2}\n"}


def sub_plan(n: int = 6, **consensus) -> dict:
    node = {"id": "vote", "kind": "consensus", "reads": ["q"], "n": n,
            "aggregator": {"kind": "majority", "tie": "smallest"},
            "body": {"nodes": copy.deepcopy([PICK, DOUBLE]), "output": "double.value"}, **consensus}
    return {"name": "sub", "inputs": {"q": {"type": "string"}}, "output": {"from": "vote", "type": "integer"},
            "nodes": [node]}


# --- the IR ------------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["nodes"][0].update(child={**PICK, "id": "vote"}), "child", "exactly one of child"),
    (lambda d: d["nodes"][0].update(reads=["q", "other"]), "reads", "what the body reads from outside"),
    (lambda d: d["nodes"][0]["body"].update(output="elsewhere"), "body.output", "not a node of the body"),
    (lambda d: d["nodes"][0]["body"]["nodes"].append({**DOUBLE}), "body.nodes", "duplicate node id"),
    (lambda d: d["nodes"][0]["body"]["nodes"][0].update(id="q", reads=["q"]), "body.nodes", "shadows"),
    (lambda d: d["nodes"][0]["body"].update(nodes=[{**PICK, "reads": ["q", "double"],
                                                    "user": "{q} {double}"}, DOUBLE]), "body.nodes", "cycle"),
])
def test_a_bad_sub_plan_names_the_node_and_field(change, field, words):
    data = sub_plan()
    change(data)
    with pytest.raises(PlanError) as caught:
        parse_plan(data)
    assert caught.value.node == "vote" and caught.value.field is not None and caught.value.field.endswith(field)
    assert words in caught.value.message


def test_sub_plan_ids_are_unique_plan_wide_and_private_to_the_sub_plan():
    data = sub_plan()
    data["nodes"].append({"id": "pick", "kind": "code", "reads": ["q"], "source": "def run(i):\n    return {}\n"})
    with pytest.raises(PlanError, match="duplicate node id 'pick'"):
        parse_plan(data)
    data = sub_plan()
    data["nodes"].append({"id": "after", "kind": "code", "reads": ["double"],
                          "source": "def run(i):\n    return {}\n"})
    with pytest.raises(PlanError, match="inside a consensus body") as caught:
        parse_plan(data)
    assert caught.value.node == "after"


def test_the_shipped_pal_sc_plan_loads_and_says_what_it_samples():
    plan = load_plan(REPO / "examples/gsmhard/pal_sc.yaml")
    vote = plan.nodes[0]
    assert isinstance(vote, ConsensusNode) and vote.body is not None and vote.n == 5
    assert [n.id for n in vote.body.nodes] == ["program", "execute"] and vote.body.output == "execute.result"
    assert plan.node("execute").kind == "code" and [n.id for n in plan.code_nodes()] == ["execute"]
    assert unreviewed_nodes(plan) == ("execute",)  # student-written code inside a sub-plan is still unreviewed


# --- running -----------------------------------------------------------------------------

class CountingStudent(Student):
    """The real tiny student, counting how its calls arrive (one batch per wave, or one call per sample)."""

    def __init__(self, inner: Student) -> None:
        self.inner, self.model_name, self.model_sha256 = inner, inner.model_name, inner.model_sha256
        self.batches: list[int] = []
        self.singles = 0

    def generate(self, system, user, sampling, *, grammar=None, shots=()):
        self.singles += 1
        return self.inner.generate(system, user, sampling, grammar=grammar, shots=shots)

    def generate_many(self, system, user, samplings, *, grammar=None, shots=()):
        self.batches.append(len(samplings))
        return self.inner.generate_many(system, user, samplings, grammar=grammar, shots=shots)


@pytest.mark.model
def test_sub_plan_samples_vote_with_their_own_sub_traces(tiny_student):
    student = CountingStudent(tiny_student)
    with Executor(parse_plan(sub_plan(n=6)), student=student) as executor:
        first = executor.run({"q": "Pick a digit."})
        again = executor.run({"q": "Pick a digit."})
    assert student.batches == [6, 6] and student.singles == 0  # one batch of 6 per run: the prompt is shared
    summary, records = first.trace[0], first.trace[1:]
    assert summary.node == "vote" and summary.samples_used == 6
    # every sample's sub-trace: its llm record (seed 20 + i), then its code record unless the llm failed
    assert [r.sample for r in records if r.node == "pick"] == list(range(6))
    assert [r.seed for r in records if r.node == "pick"] == list(range(20, 26))
    assert [r.sample for r in records] == sorted(r.sample for r in records)
    votes, lost = [], 0
    for record in records:
        if record.node == "double":
            assert record.inputs == {"pick": next(r.output for r in records
                                                  if r.node == "pick" and r.sample == record.sample)}
            if record.error:
                lost += 1
            else:
                votes.append(record.output["value"])
    assert first.ok and first.output == aggregate(votes, MajorityAggregator(kind="majority")).value
    assert summary.agreement == pytest.approx(votes.count(first.output) / 6)
    assert lost == sum(1 for r in records if r.node == "pick" and r.output == 7)
    kept = {"node", "sample", "seed", "inputs", "output", "raw_text", "error", "agreement"}
    assert [r.model_dump(include=kept) for r in again.trace] == [r.model_dump(include=kept) for r in first.trace]


@pytest.mark.model
def test_early_stop_decodes_in_waves_no_larger_than_could_still_agree(tiny_student):
    greedy = {**PICK, "sampling": {"temperature": 0, "max_tokens": 2}}
    data = sub_plan(n=9, early_stop={"agreement": 0.5, "min_samples": 2})
    data["nodes"][0]["body"]["nodes"] = [greedy, {**DOUBLE, "source": "def run(inputs):\n"
                                                  "    return {'value': inputs['pick'] * 2}\n"}]
    student = CountingStudent(tiny_student)
    with Executor(parse_plan(data), student=student) as executor:
        result = executor.run({"q": "Pick a digit."})
    # greedy samples agree: the first wave is the 5 votes ceil(0.5 * 9) asks for, and it is enough
    assert student.batches == [5] and result.trace[0].samples_used == 5 and result.trace[0].agreement == 1.0


@pytest.mark.model
def test_a_sub_plan_whose_every_sample_fails_names_the_consensus_node(tiny_student):
    data = sub_plan(n=3)
    data["nodes"][0]["body"]["nodes"][1] = {**DOUBLE, "source": "def run(inputs):\n    return {'value': 1 // 0}\n"}
    with Executor(parse_plan(data), student=tiny_student) as executor:
        result = executor.run({"q": "Pick a digit."})
    assert not result.ok and result.error.node == "vote" and "all 3 samples failed" in result.error.message
    assert sum(1 for r in result.trace if r.node == "double" and r.error) == 3


def test_student_written_code_in_a_sub_plan_needs_the_policy_to_allow_it():
    plan = load_plan(REPO / "examples/gsmhard/pal_sc.yaml")
    policy = load_policy("default").model_copy(update={"require_approval": True, "min_approvals": 0})
    with pytest.raises(ApprovalError) as caught:
        Executor(plan, policy=policy, plan_dir=REPO / "examples/gsmhard")
    assert caught.value.node == "execute"


# --- the edit ----------------------------------------------------------------------------

def pal_plan() -> dict:
    return {"name": "pal", "inputs": {"question": {"type": "string"}},
            "output": {"from": "execute.result", "type": "number"},
            "nodes": [{"id": "program", "kind": "llm", "reads": ["question"], "user": "{question}",
                       "parser": {"kind": "code_block"}},
                      {"id": "execute", "kind": "code", "reads": ["program"], "source_from": "program",
                       "entrypoint": "solution", "call": "no_args", "policy": "strict"}]}


def wrap(node: str, **fields) -> Candidate:
    return Candidate.model_validate({"rationale": "vote", "edits": [
        {"op": "wrap_consensus", "node": node, "n": 5, "aggregator": {"kind": "majority"}, **fields}]})


def test_wrap_consensus_on_a_code_node_samples_the_sub_plan_that_computes_it():
    plan = apply_candidate(parse_plan(pal_plan()), wrap("execute", temperature=0.6))
    vote = plan.nodes[0]
    assert [n.id for n in plan.nodes] == ["execute"] and isinstance(vote, ConsensusNode)
    assert vote.reads == ("question",) and vote.body is not None
    assert [n.id for n in vote.body.nodes] == ["program", "execute_sample"]
    assert vote.body.output == "execute_sample" and plan.output.source == "execute.result"
    assert plan.node("program").sampling.temperature == 0.6  # type: ignore[union-attr]
    keyed = apply_candidate(parse_plan(pal_plan()), wrap("execute", key="result"))
    assert keyed.nodes[0].body.output == "execute_sample.result" and keyed.output.source == "execute"


def test_wrap_consensus_keeps_nodes_others_read_outside_the_sub_plan():
    data = pal_plan()
    data["nodes"].append({"id": "echo", "kind": "code", "reads": ["program"],
                          "source": "def run(inputs):\n    return {'n': len(inputs['program'])}\n",
                          "properties": {"inputs": {"program": {"type": "string"}}}})
    plan = apply_candidate(parse_plan(data), wrap("execute"))
    assert [n.id for n in plan.nodes] == ["program", "execute", "echo"]  # program stays: echo reads it too
    assert [n.id for n in plan.nodes[1].body.nodes] == ["execute_sample"]
    data["nodes"].append({"id": "after", "kind": "code", "reads": ["execute"],
                          "source": "def run(inputs):\n    return {'n': 1}\n",
                          "properties": {"inputs": {"execute": {"type": "object", "fields": {}}}}})
    with pytest.raises(EditRejected, match="read the whole node"):
        apply_candidate(parse_plan(data), wrap("execute", key="result"))


def test_prompt_edits_reach_an_llm_node_inside_a_sub_plan():
    plan = parse_plan(sub_plan())
    edited = apply_candidate(plan, Candidate.model_validate({"rationale": "r", "edits": [
        {"op": "rewrite_prompt", "node": "pick", "system": "Answer with one digit."}]}))
    assert edited.node("pick").system == "Answer with one digit."  # type: ignore[union-attr]
    with pytest.raises(EditRejected, match="name the llm node inside it"):
        apply_candidate(plan, Candidate.model_validate({"rationale": "r", "edits": [
            {"op": "rewrite_prompt", "node": "vote", "system": "x"}]}))


# --- review and the teacher protocol ------------------------------------------------------

def test_review_follows_untrusted_text_into_the_sub_plan():
    path = REPO / "examples/gsmhard/pal_sc.yaml"
    plan = load_plan(path)
    flow = data_flow(plan)
    assert [p.nodes for p in flow.paths if p.runs_as_code] == [("question", "program", "execute")]
    review = review_plan(plan, path)
    assert review.student_code == ("execute",) and "execute" in (review.warning or "")
    (program,) = review.llm_nodes
    assert program.id == "program" and program.consensus is not None and program.consensus.node == "answer"
    assert program.consensus.n == 5 and program.consensus.body_output == "execute.result"


def test_recorded_compiles_replay_with_the_protocol_they_were_recorded_with():
    recorded = load_transcript(FRONTIER / "gsmhard-0121/transcript-m3.jsonl")
    assert recorded_protocol(recorded) == 1
    assert recorded_protocol([]) == TEACHER_PROTOCOL == 4
    smollm = load_transcript(FRONTIER / "gsmhard-0126/smollm2-135m/transcript-m3.jsonl")
    assert recorded_protocol(smollm) == 3 and "budget" not in smollm[0]["request"]["payload"]
    assert "`budget`" in CRITIQUE_INSTRUCTIONS[4] and "`budget`" not in CRITIQUE_INSTRUCTIONS[3]
    v4 = CRITIQUE_INSTRUCTIONS[4]
    start, end = v4.index("- The payload's `budget`"), v4.index("Prefer the smallest change")
    assert v4[:start] + v4[end:] == CRITIQUE_INSTRUCTIONS[3]  # 4 only adds the budget paragraph
    assert "`node` may also name a code node" in CRITIQUE_INSTRUCTIONS[2]
    assert "`node` may also name a code node" in CRITIQUE_INSTRUCTIONS[3]
    assert "Fit the plan to the student" in CRITIQUE_INSTRUCTIONS[3]
    assert "Fit the plan to the student" not in CRITIQUE_INSTRUCTIONS[2]
    assert "`node` may also name a code node" not in CRITIQUE_INSTRUCTIONS[1]
    assert json.loads(json.dumps(CRITIQUE_INSTRUCTIONS[1])) == recorded[0]["request"]["instructions"]
