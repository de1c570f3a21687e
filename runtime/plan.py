"""The plan IR: a DAG of llm, code and consensus nodes, validated by pydantic.

The plan file is the contract between the compiler, the runtime and the
security reviewer, so every model forbids unknown fields and every
cross-field rule names the node and the field it is about.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .patterns import compile_problem, schema_problem
from .policy import PolicyOverride

PLAN_FORMAT = 1
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
# {name} or {name.key}; {{ and }} are literal braces
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_REF = re.compile(r"^([a-z][a-z0-9_]{0,63})(?:\.([A-Za-z_][A-Za-z0-9_]{0,63}))?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def template_refs(template: str) -> list[str]:
    """The placeholders of a user template, in order; raises ValueError on a malformed one."""
    refs = []
    for match in PLACEHOLDER.finditer(template):
        if match.group(0) in ("{{", "}}"):
            continue
        ref = match.group(1)
        if not _REF.match(ref):
            raise ValueError(f"placeholder {{{ref}}} must be {{name}} or {{name.key}}")
        refs.append(ref)
    stray = PLACEHOLDER.sub("", template)
    if "{" in stray or "}" in stray:
        raise ValueError("unbalanced brace: write {{ or }} for a literal brace")
    return refs


def split_ref(ref: str) -> tuple[str, str | None]:
    match = _REF.match(ref)
    if not match:
        raise ValueError(f"{ref!r} is not a reference of the form name or name.key")
    return match.group(1), match.group(2)


# --- inputs and output ---------------------------------------------------------

ValueType = Literal["string", "number", "integer", "boolean", "object", "array", "any"]


class InputSpec(_Model):
    type: ValueType = Field("string", description="JSON type of the input")
    description: str = Field("", description="what the input is, for people and teachers")


class OutputSpec(_Model):
    source: str = Field(alias="from", description="node id, or node.key for a field of a node's object output")
    type: ValueType = Field("any", description="JSON type the plan returns")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    @field_validator("source")
    @classmethod
    def _ref(cls, value: str) -> str:
        split_ref(value)
        return value


# --- llm nodes -------------------------------------------------------------------

class Sampling(_Model):
    temperature: float = Field(0.0, ge=0, le=5, description="0 means greedy decoding")
    max_tokens: int = Field(256, ge=1, le=32768)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(40, ge=0, description="0 disables top-k")
    min_p: float = Field(0.05, ge=0, le=1)
    stop: tuple[str, ...] = Field((), description="stop strings")


class NumberParser(_Model):
    kind: Literal["number"]
    pick: Literal["last", "first"] = Field("last", description="which number in the text to take")


class JsonParser(_Model):
    kind: Literal["json"]
    json_schema: dict[str, Any] = Field(alias="schema", description="JSON schema the parsed object must satisfy")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    @field_validator("json_schema")
    @classmethod
    def _usable(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = schema_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class RegexParser(_Model):
    kind: Literal["regex"]
    pattern: str
    group: int | str = Field(0, description="group to return")
    fallback: Literal["error", "text"] = Field("error", description="what to do when nothing matches")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        problem = compile_problem(value)  # the `regex` module runs it, under a timeout (patterns.py)
        if problem is not None:
            raise ValueError(problem)
        return value


class TextParser(_Model):
    kind: Literal["text"]
    strip: bool = True


class CodeBlockParser(_Model):
    """Takes the first fenced code block (```python ... ```), or the whole text when there is none."""
    kind: Literal["code_block"]


OutputParser = Annotated[Union[NumberParser, JsonParser, RegexParser, TextParser, CodeBlockParser],
                         Field(discriminator="kind")]


class Grammar(_Model):
    """Constrains decoding: GBNF text, or derived from the JSON parser's schema."""
    gbnf: str | None = None
    from_json_schema: bool = Field(False, description="derive the grammar from the node's json parser schema")

    @model_validator(mode="after")
    def _one(self) -> "Grammar":
        if bool(self.gbnf) == self.from_json_schema:
            raise ValueError("give exactly one of gbnf or from_json_schema: true")
        return self


class Shot(_Model):
    """One worked example, sent as a prior user/assistant turn (how chat models take examples best)."""
    user: str
    assistant: str


class _NodeBase(_Model):
    id: str = Field(pattern=NAME_PATTERN, description="unique node id")
    reads: tuple[str, ...] = Field((), description="plan inputs and node ids this node reads")
    description: str = ""


class LlmNode(_NodeBase):
    kind: Literal["llm"]
    system: str = Field("", description="system prompt")
    user: str = Field(description="user message template over the node's reads: {name} or {name.key}")
    shots: tuple[Shot, ...] = Field((), description="worked examples, sent as prior chat turns before the user message")
    sampling: Sampling = Sampling()
    parser: OutputParser = Field(default_factory=lambda: TextParser(kind="text"))
    grammar: Grammar | None = None

    @model_validator(mode="after")
    def _template(self) -> "LlmNode":
        try:
            refs = template_refs(self.user)
        except ValueError as exc:
            raise ValueError(f"user: {exc}") from None
        missing = sorted({split_ref(r)[0] for r in refs} - set(self.reads))
        if missing:
            raise ValueError(f"user: template uses {missing} which the node does not read")
        if self.grammar and self.grammar.from_json_schema and not isinstance(self.parser, JsonParser):
            raise ValueError("grammar: from_json_schema needs a json parser")
        return self


# --- property tests of generated code (run by the compiler, kept for the reviewer) ---

class IntegerStrategy(_Model):
    type: Literal["integer"]
    min: int
    max: int


class NumberStrategy(_Model):
    type: Literal["number"]
    min: float
    max: float
    places: int | None = Field(None, ge=0, le=12, description="round draws to this many decimal places")


class TextStrategy(_Model):
    type: Literal["string"]
    pattern: str | None = Field(None, description="draw strings matching this regex (fullmatch)")
    alphabet: str | None = Field(None, description="draw from these characters when no pattern is given")
    min_size: int = Field(0, ge=0)
    max_size: int = Field(40, ge=0, le=2000)


class ChoiceStrategy(_Model):
    type: Literal["choice"]
    values: tuple[Any, ...] = Field(min_length=1)


class TemplateStrategy(_Model):
    """Text made from a template whose {slot}s are drawn: how a property test writes a question."""
    type: Literal["template"]
    template: str
    slots: dict[str, "Strategy"] = Field(default_factory=dict)


class ObjectStrategy(_Model):
    """An object with these fields: an upstream node's JSON output."""
    type: Literal["object"]
    fields: dict[str, "Strategy"]


class ListStrategy(_Model):
    type: Literal["list"]
    items: "Strategy"
    min_size: int = Field(0, ge=0)
    max_size: int = Field(10, ge=0, le=1000)


Strategy = Annotated[Union[IntegerStrategy, NumberStrategy, TextStrategy, ChoiceStrategy, TemplateStrategy,
                           ObjectStrategy, ListStrategy], Field(discriminator="type")]
for _recursive in (TemplateStrategy, ObjectStrategy, ListStrategy):
    _recursive.model_rebuild()


class PropertyExample(_Model):
    inputs: dict[str, Any]
    output: dict[str, Any] = Field(description="expected fields of run()'s result (numbers within 1e-3)")


class Properties(_Model):
    """What generated code must satisfy: drawn inputs, invariants over (inputs, output), fixed examples."""
    inputs: dict[str, Strategy] = Field(description="a strategy per key of run()'s inputs (the node's reads)")
    invariants: tuple[str, ...] = Field((), description="Python expressions over `inputs` and `output` that must "
                                        "be true for every draw, e.g. \"output['answer'] >= 0\"")
    examples: tuple[PropertyExample, ...] = Field((), description="fixed input/output pairs")
    max_examples: int = Field(60, ge=1, le=1000, description="hypothesis draws")


class CodeNode(_NodeBase):
    """Python defining ``run(inputs: dict) -> dict`` (or ``entrypoint``), run in a sandbox.

    ``source`` is fixed, reviewed code (hashed); ``source_from`` names an upstream
    node whose text output is the program (the PAL case): never reviewed, so the
    sandbox is all that stands between it and the machine.
    """
    kind: Literal["code"]
    source: str | None = Field(None, description="fixed Python source (reviewed)")
    source_from: str | None = Field(None, description="upstream node whose output is the source (unreviewed)")
    sha256: str | None = Field(None, description="SHA-256 of source; filled on load when absent")
    entrypoint: str = Field("run", pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="function to call")
    call: Literal["inputs", "no_args"] = Field("inputs", description="call entrypoint(inputs) or entrypoint()")
    policy: str | None = Field(None, description="named policy (must tighten the deployment policy)")
    policy_override: PolicyOverride | None = Field(None, description="fields to tighten")
    properties: Properties | None = Field(None, description="the property tests the code passed when compiled")

    @property
    def reviewed(self) -> bool:
        return self.source is not None

    @model_validator(mode="before")
    @classmethod
    def _fill_hash(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("source"), str) and data.get("sha256") is None:
            data = {**data, "sha256": sha256_text(data["source"])}
        return data

    @model_validator(mode="after")
    def _source(self) -> "CodeNode":
        if (self.source is None) == (self.source_from is None):
            raise ValueError("source: give exactly one of source (fixed code) or source_from (an upstream node)")
        if self.source is not None and self.sha256 != sha256_text(self.source):
            raise ValueError(f"sha256: does not match the source (source hashes to {sha256_text(self.source)}); "
                             "the code changed after it was hashed")
        if self.source_from is not None:
            if self.sha256 is not None:
                raise ValueError("sha256: only fixed source has a hash")
            if self.source_from not in self.reads:
                raise ValueError(f"source_from: {self.source_from!r} must also be listed in reads")
        return self


class MajorityAggregator(_Model):
    kind: Literal["majority"]
    tolerance: float = Field(1e-9, ge=0, description="numbers within this absolute distance count as one answer")
    tie: Literal["smallest", "largest", "error"] = Field(
        "smallest", description="rule when two answers have the same count: the smallest / largest wins, or fail")


class MedianAggregator(_Model):
    """Lower median of numeric samples (always one of the samples)."""
    kind: Literal["median"]


Aggregator = Annotated[Union[MajorityAggregator, MedianAggregator], Field(discriminator="kind")]


class EarlyStop(_Model):
    agreement: float = Field(gt=0, le=1, description="stop once this fraction of n agrees on one answer")
    min_samples: int = Field(1, ge=1)


BodyNode = Annotated[Union[LlmNode, CodeNode], Field(discriminator="kind")]


class SubPlan(_Model):
    """A small DAG a consensus node samples as one unit: e.g. an llm writes a program, code runs it.

    Its node ids are unique across the whole plan (so traces, reviews and approvals name them plainly);
    only nodes of the same sub-plan read them."""
    nodes: tuple[BodyNode, ...] = Field(min_length=1, max_length=16)
    output: str = Field(description="the sub-plan node (or node.key) whose value is one sample")

    @field_validator("output")
    @classmethod
    def _ref(cls, value: str) -> str:
        split_ref(value)
        return value


class ConsensusNode(_NodeBase):
    """Samples ``child`` (an llm node) or ``body`` (a sub-plan) n times and aggregates the sampled values.

    Sample i runs every llm node with seed sampling.seed + i; a sample that fails is a lost vote."""
    kind: Literal["consensus"]
    child: LlmNode | None = Field(None, description="the llm node to sample (its id is the consensus node's)")
    body: SubPlan | None = Field(None, description="the sub-plan to sample; its output is the sample")
    n: int = Field(ge=1, le=64)
    aggregator: Aggregator
    key: str | None = Field(None, description="aggregate this field of an object output")
    early_stop: EarlyStop | None = None

    @model_validator(mode="after")
    def _child(self) -> "ConsensusNode":
        if (self.child is None) == (self.body is None):
            raise ValueError("child: give exactly one of child (an llm node) or body (a sub-plan)")
        if self.child is not None:
            if self.child.id != self.id:
                raise ValueError(f"child.id: must equal the consensus node's id {self.id!r}")
            if set(self.child.reads) != set(self.reads):
                raise ValueError("reads: must equal child.reads")
        if self.body is not None:
            self._check_body(self.body)
        if self.early_stop and self.early_stop.min_samples > self.n:
            raise ValueError("early_stop.min_samples: larger than n")
        return self

    def _check_body(self, body: SubPlan) -> None:
        ids = [n.id for n in body.nodes]
        for node_id in ids:
            if ids.count(node_id) > 1:
                raise ValueError(f"body.nodes: duplicate node id {node_id!r}")
            if node_id == self.id or node_id in self.reads:
                raise ValueError(f"body.nodes: node id {node_id!r} shadows the consensus node or one of its reads")
        outside = set()
        for node in body.nodes:
            for ref in node.reads:
                if ref == node.id:
                    raise ValueError(f"body.nodes: {node.id!r} reads itself")
                if ref not in ids:
                    outside.add(ref)
        if outside != set(self.reads):
            raise ValueError(f"reads: must equal what the body reads from outside it ({sorted(outside)})")
        if split_ref(body.output)[0] not in ids:
            raise ValueError(f"body.output: {body.output!r} is not a node of the body")
        body_order(body)  # a cycle is a ValueError naming it

    @property
    def llm_nodes(self) -> tuple[LlmNode, ...]:
        """The llm nodes sampled: the child, or the body's llm nodes."""
        if self.child is not None:
            return (self.child,)
        assert self.body is not None  # the validator: exactly one of child, body
        return tuple(n for n in self.body.nodes if isinstance(n, LlmNode))


def body_order(body: SubPlan) -> list[LlmNode | CodeNode]:
    """The body's nodes in dependency order (ties by file order); ValueError on a cycle."""
    from graphlib import CycleError, TopologicalSorter

    ids = [n.id for n in body.nodes]
    sorter = TopologicalSorter({n.id: [r for r in n.reads if r in ids] for n in body.nodes})
    try:
        sorter.prepare()
    except CycleError as exc:
        raise ValueError(f"body.nodes: the nodes form a cycle: {' -> '.join(exc.args[1])}") from None
    by_id = {n.id: n for n in body.nodes}
    order: list[LlmNode | CodeNode] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=ids.index)
        order.extend(by_id[i] for i in ready)
        sorter.done(*ready)
    return order


Node = Annotated[Union[LlmNode, CodeNode, ConsensusNode], Field(discriminator="kind")]


class Provenance(_Model):
    student_model: str | None = None
    student_sha256: str | None = None
    student_build: dict[str, Any] | None = Field(
        None, description="what the student's greedy output depended on besides the model: llama.cpp thread count "
        "(n_threads), llama-cpp-python version and llama.cpp system info; a replayed compile keeps the recorded "
        "one; unset for plans compiled from transcripts that predate it (then it is out of the content hash)")
    teacher: str | None = None
    examples_sha256: str | None = None
    score_history: tuple[dict[str, Any], ...] = ()
    compiler_version: str | None = None
    notes: str = ""


class Plan(_Model):
    sgde_plan: Literal[1] = Field(1, description="plan format version (PLAN_FORMAT)")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    description: str = ""
    inputs: dict[str, InputSpec]
    output: OutputSpec
    nodes: tuple[Node, ...]
    provenance: Provenance = Provenance()

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value: dict[str, InputSpec]) -> dict[str, InputSpec]:
        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"input name {name!r} must match {NAME_PATTERN}")
        return value

    def node(self, node_id: str) -> LlmNode | CodeNode | ConsensusNode:
        """The node of this id, top-level or inside a consensus node's sub-plan (ids are unique plan-wide)."""
        for node in self.all_nodes():
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def all_nodes(self) -> list[LlmNode | CodeNode | ConsensusNode]:
        """Every node, each consensus node followed by its body's nodes (node ids are unique plan-wide)."""
        found: list[LlmNode | CodeNode | ConsensusNode] = []
        for node in self.nodes:
            found.append(node)
            if isinstance(node, ConsensusNode) and node.body is not None:
                found.extend(node.body.nodes)
        return found

    def code_nodes(self) -> list[CodeNode]:
        """Every code node, top-level or inside a consensus node's body."""
        return [n for n in self.all_nodes() if isinstance(n, CodeNode)]

    @property
    def needs_student(self) -> bool:
        return any(isinstance(node, LlmNode) for node in self.all_nodes()) or \
            any(isinstance(node, ConsensusNode) and node.child is not None for node in self.nodes)

    def content_hash(self) -> str:
        """SHA-256 of the plan's canonical JSON: what a reviewer signs off on.

        Unset optional fields are left out, so a newer sgde that adds an optional
        field does not change the hash of a plan that does not use it."""
        import json
        canonical = json.dumps(self.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True,
                               separators=(",", ":"), ensure_ascii=False)
        return sha256_text(canonical)
