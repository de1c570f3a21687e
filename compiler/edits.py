"""Typed plan edits — what a teacher may propose — and how each applies to a plan.

An edit names the node it changes; applying one returns a new, fully checked
plan or raises `EditRejected` naming the edit and why. The models double as
the teacher's response schema, so what a teacher can ask for is exactly what
this module can apply.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from sgde.runtime.errors import PlanError, SgdeError
from sgde.runtime.plan import Aggregator, CodeNode, EarlyStop, Grammar, LlmNode, Plan, Properties, Shot, split_ref
from sgde.runtime.plan_io import parse_plan, plan_document, topological_order


class EditRejected(SgdeError):
    """An edit cannot apply to the plan (unknown node, a dangling read, an invalid node...)."""
    type_name = "edit_rejected"


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RewritePrompt(_Edit):
    """Rewrite an llm node's (or a consensus node's child's) prompt; omitted fields stay."""
    op: Literal["rewrite_prompt"]
    node: str
    system: str | None = None
    user: str | None = Field(None, description="user template over the node's reads: {name} or {name.key}")
    shots: list[Shot] | None = Field(None, description="worked examples as prior chat turns (replaces all)")
    max_tokens: int | None = Field(None, ge=1, le=4096)


class OffloadToCode(_Edit):
    """Capability offloading: the node becomes Python (run(inputs) -> dict) in the sandbox."""
    op: Literal["offload_to_code"]
    node: str
    source: str = Field(description="Python defining run(inputs) -> dict; inputs has one key per read")
    reads: list[str] | None = Field(None, description="what the code reads (default: the node's reads)")
    properties: Properties = Field(description="property tests the code must pass before it is accepted")


class WrapConsensus(_Edit):
    """Structural consensus: sample the llm node n times (seeds seed..seed+n-1) and vote."""
    op: Literal["wrap_consensus"]
    node: str
    n: int = Field(ge=2, le=16)
    aggregator: Aggregator
    key: str | None = Field(None, description="vote on this field of an object output")
    early_stop: EarlyStop | None = None
    temperature: float = Field(0.7, gt=0, le=2, description="sampling temperature of the samples")


class InsertNode(_Edit):
    """Add a new llm or code node (code needs properties). Rewire readers with replace/rewrite edits."""
    op: Literal["insert_node"]
    node: Annotated[Union[LlmNode, CodeNode], Field(discriminator="kind")]
    properties: Properties | None = Field(None, description="required when the node is code")


class ReplaceNode(_Edit):
    """Replace a node by a new definition with the same id (a split is an insert plus a replace)."""
    op: Literal["replace_node"]
    node: Annotated[Union[LlmNode, CodeNode], Field(discriminator="kind")]
    properties: Properties | None = Field(None, description="required when the node is code")


class SetGrammar(_Edit):
    """Constrain an llm node's decoding (GBNF, or derived from its json parser's schema); null removes it."""
    op: Literal["set_grammar"]
    node: str
    grammar: Grammar | None


class RemoveNode(_Edit):
    op: Literal["remove_node"]
    node: str


class SetOutput(_Edit):
    """Point the plan's output at another node or node.key."""
    op: Literal["set_output"]
    source: str = Field(alias="from")
    type: Literal["string", "number", "integer", "boolean", "object", "array", "any"] = "number"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)


Edit = Annotated[Union[RewritePrompt, OffloadToCode, WrapConsensus, InsertNode, ReplaceNode, SetGrammar,
                       RemoveNode, SetOutput], Field(discriminator="op")]


class Candidate(BaseModel):
    """One proposed change: edits applied together, verified and scored as one plan."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    rationale: str = Field(description="which node was wrong or unstable in the traces, and why this fixes it")
    edits: list[Edit] = Field(min_length=1, max_length=8)


class Critique(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str = Field(description="the node the critique is about")
    critique: str = Field(description="what went wrong in the traces, in natural language")
    direction: str = Field(description="which way the node should change (the semantic gradient)")


class CritiqueReply(BaseModel):
    """The teacher's answer to a critique request."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    critiques: list[Critique] = Field(max_length=8, description="per-node critiques of the traces")
    candidates: list[Candidate] = Field(max_length=3, description="up to 3 alternative candidates, best first")


# --- applying ----------------------------------------------------------------------

def code_edits(candidate: Candidate) -> list[tuple[str, str, Properties | None, list[str]]]:
    """(node id, source, properties, reads) of every piece of fixed code a candidate adds."""
    found = []
    for edit in candidate.edits:
        if isinstance(edit, OffloadToCode):
            found.append((edit.node, edit.source, edit.properties, list(edit.reads or [])))
        elif isinstance(edit, (InsertNode, ReplaceNode)) and isinstance(edit.node, CodeNode) \
                and edit.node.source is not None:
            found.append((edit.node.id, edit.node.source, edit.properties, list(edit.node.reads)))
    return found


def apply_candidate(plan: Plan, candidate: Candidate) -> Plan:
    """The plan with every edit applied in order, checked as a whole; EditRejected names the failing edit."""
    doc = plan_document(plan)
    doc.pop("content_hash", None)
    for index, edit in enumerate(candidate.edits):
        try:
            doc = _apply(doc, edit)
        except EditRejected as exc:
            raise EditRejected(f"edit {index + 1} ({edit.op}): {exc.message}", node=exc.node, field=exc.field) \
                from None
    try:
        edited = parse_plan(doc)
        # nodes in dependency order, so the file reads top-down whatever order the edits came in
        position = {node_id: i for i, node_id in enumerate(topological_order(edited))}
        doc["nodes"] = sorted(doc["nodes"], key=lambda n: position[n["id"]])
        return parse_plan(doc)
    except PlanError as exc:
        raise EditRejected(f"the edited plan is invalid: {exc}", node=exc.node, field=exc.field) from None


def _index(doc: dict[str, Any], node_id: str) -> int:
    for i, node in enumerate(doc["nodes"]):
        if node["id"] == node_id:
            return i
    raise EditRejected(f"no node {node_id!r} (nodes: {[n['id'] for n in doc['nodes']]})", node=node_id, field="node")


def _locate(doc: dict[str, Any], node_id: str) -> tuple[list[dict[str, Any]], int]:
    """The (copied) node list holding ``node_id`` and its index there: the plan's nodes, or a consensus node's
    sub-plan, so prompt, grammar and code edits reach nodes inside a sub-plan too."""
    for i, node in enumerate(doc["nodes"]):
        if node["id"] == node_id:
            return doc["nodes"], i
        body = node.get("body")
        if body is not None:
            for j, inner in enumerate(body["nodes"]):
                if inner["id"] == node_id:
                    inner_nodes = [dict(n) for n in body["nodes"]]
                    doc["nodes"][i] = {**node, "body": {**body, "nodes": inner_nodes}}
                    return inner_nodes, j
    _index(doc, node_id)  # raises, naming the top-level nodes
    raise AssertionError("unreachable")


def _llm_part(node: dict[str, Any]) -> dict[str, Any]:
    if node["kind"] == "llm":
        return node
    if node["kind"] == "consensus" and "child" in node:
        return node["child"]
    if node["kind"] == "consensus":
        inner = [n["id"] for n in node["body"]["nodes"] if n["kind"] == "llm"]
        raise EditRejected(f"samples a sub-plan; name the llm node inside it ({inner})", node=node["id"], field="node")
    raise EditRejected("is a code node; it has no prompt", node=node["id"], field="node")


def _node_doc(node: LlmNode | CodeNode, properties: Properties | None) -> dict[str, Any]:
    doc = node.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(node, CodeNode):
        if node.source is not None and properties is None and node.properties is None:
            raise EditRejected("new code needs properties (its property tests)", node=node.id, field="properties")
        if properties is not None:
            doc["properties"] = properties.model_dump(mode="json", exclude_none=True)
    return doc


def _apply(doc: dict[str, Any], edit: Any) -> dict[str, Any]:
    doc = {**doc, "nodes": [dict(n) for n in doc["nodes"]]}
    nodes = doc["nodes"]
    if isinstance(edit, RewritePrompt):
        where, i = _locate(doc, edit.node)
        node = where[i] = {**where[i]}
        if "child" in node:
            node["child"] = {**node["child"]}
        llm = _llm_part(node)
        if edit.system is not None:
            llm["system"] = edit.system
        if edit.user is not None:
            llm["user"] = edit.user
        if edit.shots is not None:
            llm["shots"] = [s.model_dump() for s in edit.shots]
        if edit.max_tokens is not None:
            llm["sampling"] = {**llm.get("sampling", {}), "max_tokens": edit.max_tokens}
    elif isinstance(edit, OffloadToCode):
        where, i = _locate(doc, edit.node)
        reads = edit.reads if edit.reads is not None else where[i].get("reads", [])
        where[i] = {"id": edit.node, "kind": "code", "reads": list(reads),
                    "description": where[i].get("description", ""), "source": edit.source,
                    "properties": edit.properties.model_dump(mode="json", exclude_none=True)}
    elif isinstance(edit, WrapConsensus):
        i = _index(doc, edit.node)
        node = nodes[i]
        if node["kind"] == "llm":
            child = {**node, "sampling": {**node.get("sampling", {}), "temperature": edit.temperature}}
            wrapped = {"id": node["id"], "kind": "consensus", "reads": node.get("reads", []),
                       "description": node.get("description", ""), "child": child, "n": edit.n,
                       "aggregator": edit.aggregator.model_dump(mode="json")}
            if edit.key is not None:
                wrapped["key"] = edit.key
        elif node["kind"] == "code":
            wrapped = _wrap_sub_plan(doc, edit)
        else:
            raise EditRejected("is already a consensus node", node=edit.node, field="node")
        if edit.early_stop is not None:
            wrapped["early_stop"] = edit.early_stop.model_dump(mode="json")
        doc["nodes"] = nodes = [n for n in doc["nodes"] if n["id"] not in _body_ids(wrapped) or n is node]
        nodes[nodes.index(node)] = wrapped
    elif isinstance(edit, InsertNode):
        if any(n["id"] == edit.node.id for n in nodes):
            raise EditRejected("a node with this id exists; use replace_node", node=edit.node.id, field="node.id")
        nodes.append(_node_doc(edit.node, edit.properties))
    elif isinstance(edit, ReplaceNode):
        where, i = _locate(doc, edit.node.id)
        where[i] = _node_doc(edit.node, edit.properties)
    elif isinstance(edit, SetGrammar):
        where, i = _locate(doc, edit.node)
        node = where[i] = {**where[i]}
        if "child" in node:
            node["child"] = {**node["child"]}
        llm = _llm_part(node)
        if edit.grammar is None:
            llm.pop("grammar", None)
        else:
            llm["grammar"] = edit.grammar.model_dump(mode="json", exclude_none=True)
    elif isinstance(edit, RemoveNode):
        i = _index(doc, edit.node)
        readers = [n["id"] for n in nodes if edit.node in n.get("reads", [])]
        if readers or split_ref(doc["output"]["from"])[0] == edit.node:
            raise EditRejected(f"still read by {readers or ['the plan output']}", node=edit.node, field="node")
        del nodes[i]
    elif isinstance(edit, SetOutput):
        doc["output"] = {"from": edit.source, "type": edit.type}
    return doc


def _body_ids(wrapped: dict[str, Any]) -> set[str]:
    return {n["id"] for n in wrapped.get("body", {}).get("nodes", [])}


def _wrap_sub_plan(doc: dict[str, Any], edit: WrapConsensus) -> dict[str, Any]:
    """Consensus over the sub-plan that computes code node ``edit.node``: the node and every upstream llm or code
    node only that sub-plan reads (e.g. an llm writes a program, the code runs it). The consensus node takes the
    wrapped node's id, so its readers are unchanged; inside, the node becomes ``<id>_sample``."""
    nodes = {n["id"]: n for n in doc["nodes"]}
    readers: dict[str, set[str]] = {}
    for n in doc["nodes"]:
        for ref in n.get("reads", []):
            readers.setdefault(ref, set()).add(n["id"])
    output_node = split_ref(doc["output"]["from"])[0]
    members = {edit.node}
    grew = True
    while grew:
        grew = False
        for member in sorted(members):
            for ref in nodes[member].get("reads", []):
                node = nodes.get(ref)
                if node is None or ref in members or node["kind"] == "consensus" or ref == output_node:
                    continue
                if readers.get(ref, set()) <= members:
                    members.add(ref)
                    grew = True
    inner_id = f"{edit.node}_sample"
    if inner_id in nodes:
        raise EditRejected(f"the wrapped node would be renamed {inner_id!r} inside the sub-plan, which exists",
                           node=edit.node, field="node")
    if edit.key is not None and readers.get(edit.node):
        raise EditRejected(f"with key {edit.key!r} the node's value becomes that field, but "
                           f"{sorted(readers[edit.node])} read the whole node; wrap without key or rewire them first",
                           node=edit.node, field="key")
    body = []
    for n in doc["nodes"]:  # file order, which is dependency order
        if n["id"] not in members:
            continue
        n = {**n, "id": inner_id} if n["id"] == edit.node else dict(n)
        if n["kind"] == "llm":
            n["sampling"] = {**n.get("sampling", {}), "temperature": edit.temperature}
        body.append(n)
    outside = sorted({r for n in body for r in n.get("reads", []) if r not in members})
    if edit.key is not None and output_node == edit.node:
        doc["output"] = {**doc["output"], "from": edit.node}  # the consensus value is already the field
    return {"id": edit.node, "kind": "consensus", "reads": outside,
            "description": nodes[edit.node].get("description", ""),
            "body": {"nodes": body, "output": f"{inner_id}.{edit.key}" if edit.key else inner_id},
            "n": edit.n, "aggregator": edit.aggregator.model_dump(mode="json")}


def describe(edit: Any) -> str:
    """op(node), for reports and the teacher's history."""
    if isinstance(edit, SetOutput):
        return f"set_output({edit.source})"
    target = edit.node.id if isinstance(edit, (InsertNode, ReplaceNode)) else edit.node
    return f"{edit.op}({target})"
