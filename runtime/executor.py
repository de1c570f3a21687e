"""The DAG executor: runs a plan's nodes in dependency order, one trace record each.

Whatever a node does — bad output, a sandbox limit, a crash in a library —
becomes a typed `NodeFailed` naming the node; the executor itself keeps going
and serves the next input.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from . import strict_json
from .aggregate import aggregate
from .approval import OS_WALLS, Check, unreviewed_nodes
from .errors import ApprovalError, InputError, ModelError, NodeFailed, PlanError, PolicyError, SgdeError
from .parsers import parse_output
from .plan import (
    PLACEHOLDER,
    CodeNode,
    ConsensusNode,
    LlmNode,
    Plan,
    Sampling,
    body_order,
    sha256_text,
    split_ref,
    template_refs,
)
from .plan_io import topological_order
from .policy import Policy, load_policy, tighten
from .sandbox import SandboxBackend, make_backend
from .student import Student
from .trace import SandboxStats, TraceRecord

log = logging.getLogger(__name__)

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}


@dataclass
class RunResult:
    """The plan's output (or the error that stopped it) and the trace of every node."""

    output: Any
    error: SgdeError | None
    trace: list[TraceRecord]
    duration_s: float
    run_id: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        if self.error is None:
            return {"ok": True, "output": self.output}
        return {"ok": False, "error": self.error.to_dict()}


def check_value_type(value: Any, type_name: str) -> bool:
    if type_name == "any":
        return True
    if isinstance(value, bool) and type_name in ("number", "integer"):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES[type_name])


def render_template(template: str, values: dict[str, Any], node: str) -> str:
    """Fill {name} / {name.key} in one pass over the template (a value's own braces are never read as
    placeholders); values that are not strings are written as JSON; {{ and }} are literal braces."""
    template_refs(template)  # a malformed placeholder is a ValueError here, as at load time

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        # a code node may return a lone surrogate, which no tokenizer can encode: the student reads its escape,
        # as the teacher does in a request
        return strict_json.escape_text(_as_text(lookup(values, match.group(1), node)))
    return PLACEHOLDER.sub(fill, template)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def lookup(values: dict[str, Any], ref: str, node: str) -> Any:
    name, key = split_ref(ref)
    value = values[name]
    if key is None:
        return value
    if not isinstance(value, dict) or key not in value:
        raise NodeFailed(f"{name!r} has no field {key!r} (its value is {str(value)[:120]!r})", node=node,
                         cause={"type": "missing_field", "message": f"{name}.{key}"})
    return value[key]


def _check_approved(plan: Plan, policy: Policy, approved: Sequence[Check]) -> None:
    """A deployment that requires approval runs a plan only with checks made against this very plan."""
    good = {c.key_id for c in approved if c.ok and c.plan_sha256 == plan.content_hash()}
    if len(good) < policy.min_approvals:
        raise ApprovalError(f"deployment policy {policy.name!r} requires {policy.min_approvals} approval(s) of this "
                            "plan by trusted keys; check them with sgde.runtime.approval.require_approval and pass "
                            "approved=", field="approval")
    if not policy.allow_unreviewed_code:
        for node_id in unreviewed_nodes(plan):
            raise ApprovalError("runs student-written code (source_from); the deployment policy does not say "
                                "allow_unreviewed_code: true", node=node_id, field="source_from")


def resolve_node_policy(node: CodeNode, deployment: Policy, plan_dir: Path | None) -> Policy:
    """The policy a code node runs under: the deployment policy, tightened by the node's named policy and its
    override (never loosened); student-written code under an approval-requiring deployment also needs the OS walls."""
    policy = deployment
    try:
        if node.policy is not None:
            named = node.policy if plan_dir is None or not node.policy.endswith((".yaml", ".yml")) \
                else str(plan_dir / node.policy)
            policy = tighten(policy, load_policy(named), node=node.id)
        policy = tighten(policy, node.policy_override, node=node.id)
    except PolicyError as exc:
        raise PlanError(exc.message, node=node.id, field=exc.field or "policy") from None
    if node.source_from is not None and deployment.require_approval:
        # approved, yet nobody read this code: it runs only where the OS walls hold without the language guard
        missing = tuple(w for w in OS_WALLS if w not in policy.require)
        policy = policy.model_copy(update={"require": policy.require + missing})
    return policy


def node_grammar(llm: LlmNode) -> str | None:
    """The GBNF an llm node decodes under; a JSON-schema grammar is derived by llama.cpp (ModelError without it)."""
    node = llm  # errors name the node (a consensus child has the consensus node's id)
    if llm.grammar is None:
        return None
    from .student.llama import json_schema_grammar, llama_installed  # grammar derivation lives with llama.cpp
    if llm.grammar.gbnf:
        if llama_installed():  # without llama.cpp nothing would ever parse it (`sgde validate` says so)
            _check_gbnf(llm.grammar.gbnf, node.id)
        return llm.grammar.gbnf
    if not llama_installed():
        raise ModelError("deriving a grammar from a JSON schema needs llama-cpp-python, which is not installed",
                         node=node.id, field="grammar")
    try:
        return json_schema_grammar(llm.parser.json_schema)  # type: ignore[union-attr]
    except SgdeError as exc:
        raise PlanError(exc.message, node=node.id, field="grammar") from None


def _check_gbnf(gbnf: str, node_id: str) -> None:
    """Parsed by llama.cpp in a child process (see student/gbnf.py): a grammar that does not parse, or would
    crash the parser, is refused with the node's name before any run."""
    from .student.gbnf import gbnf_problem
    problem = gbnf_problem(gbnf)
    if problem is not None:
        raise PlanError(f"grammar does not parse as GBNF: {problem}", node=node_id, field="grammar")


def llm_nodes(plan: Plan) -> list[LlmNode]:
    """Every llm node the student runs: top-level, consensus children and sub-plan nodes."""
    found: list[LlmNode] = []
    for node in plan.all_nodes():
        if isinstance(node, LlmNode):
            found.append(node)
        elif isinstance(node, ConsensusNode) and node.child is not None:
            found.append(node.child)
    return found


@dataclass(frozen=True)
class ResolvedPlan:
    """What a deployment runs a plan with: each code node's policy and each llm node's grammar."""

    policies: dict[str, Policy]
    grammars: dict[str, str | None]
    grammars_checked: bool


def resolve_plan(plan: Plan, deployment: Policy, plan_dir: Path | None, *, grammars: bool = True) -> ResolvedPlan:
    """The one check of a loaded plan against a deployment (loading already checked pydantic, the hashes, the DAG
    and named policies): every code node's policy tightens the deployment's, every grammar derives. ``grammars``
    False skips the derivation, which needs llama.cpp (`sgde validate` on a reviewer's machine)."""
    policies = {n.id: resolve_node_policy(n, deployment, plan_dir) for n in plan.code_nodes()}
    derived = {n.id: node_grammar(n) for n in llm_nodes(plan)} if grammars else {}
    return ResolvedPlan(policies, derived, grammars)


class Executor:
    """Runs one plan many times. Students and sandboxes are created lazily and closed by `close()`."""

    def __init__(self, plan: Plan, *, student: Student | None = None,
                 policy: Policy | str = "default", plan_dir: Path | None = None,
                 sandboxes: dict[str, SandboxBackend] | None = None, approved: Sequence[Check] = ()) -> None:
        self.plan = plan
        self.plan_sha256 = plan.content_hash()
        self.order = topological_order(plan)
        self.deployment_policy = load_policy(policy) if isinstance(policy, str) else policy
        if self.deployment_policy.require_approval:
            _check_approved(plan, self.deployment_policy, approved)
        self._student = student
        self._own_student = student is None
        self._sandboxes: dict[str, SandboxBackend] = dict(sandboxes or {})
        self._made: list[str] = []  # backends this executor created (and closes); the caller's stay open
        resolved = resolve_plan(plan, self.deployment_policy, plan_dir)
        self.policies, self._grammars = resolved.policies, resolved.grammars
        self._runs = 0

    # --- set-up ----------------------------------------------------------------

    @property
    def student(self) -> Student:
        if self._student is None:  # the default model, loaded on first use
            from .student.llama import LlamaStudent
            self._student = LlamaStudent()
        return self._student

    def sandbox(self, backend: str) -> SandboxBackend:
        if backend not in self._sandboxes:
            self._sandboxes[backend] = make_backend(backend)
            self._made.append(backend)
        return self._sandboxes[backend]

    def close(self) -> None:
        if self._own_student and self._student is not None:
            self._student.close()
            self._student = None
        for name in self._made:
            self._sandboxes.pop(name).close()
        self._made.clear()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running ---------------------------------------------------------------

    def check_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(inputs) - set(self.plan.inputs))
        if unknown:
            raise InputError(f"unknown input {unknown[0]!r}; the plan takes {sorted(self.plan.inputs)}",
                             field=unknown[0])
        for name, spec in self.plan.inputs.items():
            if name not in inputs:
                raise InputError(f"missing input {name!r} ({spec.type})", field=name)
            if not check_value_type(inputs[name], spec.type):
                raise InputError(f"input {name!r} must be {spec.type}, got {type(inputs[name]).__name__}",
                                 field=name)
            broken = strict_json.problem(inputs[name])  # JSON is checked as it is read; this is for callers
            if broken is not None:
                raise InputError(f"input {name!r}: {broken}", field=name, limit=broken.limit)
        return dict(inputs)

    def run(self, inputs: dict[str, Any]) -> RunResult:
        """Run the plan once. Never raises for what a node does; InputError for bad inputs."""
        values = self.check_inputs(inputs)
        run_index = self._runs
        self._runs += 1
        run_id = uuid.uuid4().hex
        result = self._run(values, run_index)
        result.run_id = run_id
        for record in result.trace:
            record.run_id, record.plan_sha256 = run_id, self.plan_sha256
        fields = {"run_id": run_id, "plan": self.plan.name, "plan_sha256": self.plan_sha256,
                  "duration_s": round(result.duration_s, 6), "ok": result.ok}
        if result.error is None:
            log.info("run %s ok in %.3f s", run_id, result.duration_s, extra=fields)
        else:
            error = result.error.to_dict()
            log.warning("run %s failed at node %s: %s", run_id, error.get("node"), error.get("type"),
                        extra={**fields, "node": error.get("node"), "error_type": error.get("type")})
        return result

    def _run(self, values: dict[str, Any], run_index: int) -> RunResult:
        started = time.perf_counter()
        trace: list[TraceRecord] = []
        for node_id in self.order:
            node = self.plan.node(node_id)
            try:
                values[node_id] = self._run_node(node, values, trace, run_index)
            except SgdeError as exc:
                error = exc if isinstance(exc, NodeFailed) else NodeFailed(
                    f"{exc.type_name}: {exc.message}", node=node_id, cause=exc.to_dict())
                return RunResult(None, error, trace, time.perf_counter() - started)
            except Exception as exc:  # a bug below us must not take the executor down
                log.exception("node %s failed unexpectedly", node_id)
                error = NodeFailed(f"internal error: {type(exc).__name__}: {exc}", node=node_id,
                                   cause={"type": "internal_error", "message": str(exc)})
                trace.append(TraceRecord(run=run_index, node=node_id, kind=node.kind, error=error.to_dict()))
                return RunResult(None, error, trace, time.perf_counter() - started)
        try:
            output = lookup(values, self.plan.output.source, "output")
        except NodeFailed as exc:
            return RunResult(None, exc, trace, time.perf_counter() - started)
        if not check_value_type(output, self.plan.output.type):
            error = NodeFailed(f"plan output must be {self.plan.output.type}, got {str(output)[:120]!r}",
                               node=split_ref(self.plan.output.source)[0],
                               cause={"type": "output_type", "message": self.plan.output.type})
            return RunResult(None, error, trace, time.perf_counter() - started)
        return RunResult(output, None, trace, time.perf_counter() - started)

    def _run_node(self, node: LlmNode | CodeNode | ConsensusNode, values: dict[str, Any], trace: list[TraceRecord],
                  run_index: int) -> Any:
        if isinstance(node, LlmNode):
            return self._run_llm(node, node.sampling, values, trace, run_index, sample=None)
        if isinstance(node, CodeNode):
            return self._run_code(node, values, trace, run_index)
        return self._run_consensus(node, values, trace, run_index)

    def _run_llm(self, node: LlmNode, sampling: Sampling, values: dict[str, Any], trace: list[TraceRecord],
                 run_index: int, sample: int | None) -> Any:
        result = self._run_llm_jobs(node, [_LlmJob(sampling, values, trace, sample)], run_index)[0]
        if isinstance(result, SgdeError):
            raise result
        return result

    def _run_llm_jobs(self, node: LlmNode, jobs: list["_LlmJob"], run_index: int) -> list[Any]:
        """Run one llm node for several samples; the samples whose prompts are the same text decode as one batch
        (the prompt is evaluated once). Returns each job's parsed output, or the SgdeError that ended it."""
        results: list[Any] = [None] * len(jobs)
        records: list[TraceRecord] = []
        groups: dict[str, list[int]] = {}
        for index, job in enumerate(jobs):
            record = TraceRecord(run=run_index, node=node.id, kind="llm", sample=job.sample, seed=job.sampling.seed,
                                 inputs={r: job.values[r] for r in node.reads})
            job.trace.append(record)
            records.append(record)
            try:
                groups.setdefault(render_template(node.user, job.values, node.id), []).append(index)
            except SgdeError as exc:
                results[index] = self._failed(exc, node.id, record)
        for user, members in groups.items():
            samplings = [jobs[i].sampling for i in members]
            try:
                if len(members) == 1:
                    generations = [self.student.generate(node.system, user, samplings[0],
                                                         grammar=self._grammars[node.id], shots=node.shots)]
                else:
                    generations = self.student.generate_many(node.system, user, samplings,
                                                             grammar=self._grammars[node.id], shots=node.shots)
            except SgdeError as exc:
                for i in members:
                    results[i] = self._failed(exc, node.id, records[i])
                continue
            for i, generation in zip(members, generations, strict=True):
                record = records[i]
                record.raw_text = generation.text
                record.tokens_in, record.tokens_out = generation.tokens_in, generation.tokens_out
                record.duration_s = generation.duration_s
                try:
                    results[i] = record.output = parse_output(generation.text, node.parser)
                except SgdeError as exc:
                    results[i] = self._failed(exc, node.id, record)
        return results

    @staticmethod
    def _failed(exc: SgdeError, node_id: str, record: TraceRecord) -> SgdeError:
        exc.node = exc.node or node_id
        record.error = exc.to_dict()
        return exc

    def _run_code(self, node: CodeNode, values: dict[str, Any], trace: list[TraceRecord], run_index: int,
                  sample: int | None = None) -> Any:
        inputs = {r: values[r] for r in node.reads if r != node.source_from}
        record = TraceRecord(run=run_index, node=node.id, kind="code", sample=sample, inputs=inputs)
        trace.append(record)
        policy = self.policies[node.id]
        if node.source is not None:
            source: Any = node.source
        else:
            assert node.source_from is not None  # CodeNode's validator: exactly one of source, source_from
            source = values[node.source_from]
        try:
            if not isinstance(source, str):
                raise NodeFailed(f"source_from {node.source_from!r} produced {type(source).__name__}, not code",
                                 node=node.id, cause={"type": "source_type", "message": type(source).__name__})
            code_sha = sha256_text(source)
            result = self.sandbox(policy.backend).run(self.entry_source(node, source), inputs, policy, node=node.id,
                                                     reviewed=node.reviewed)
        except SgdeError as exc:
            exc.node = exc.node or node.id
            record.error = exc.to_dict()
            raise
        record.duration_s = result.duration_s
        record.sandbox = SandboxStats(backend=policy.backend, policy=policy.name, cpu_s=result.cpu_s,
                                      worker_started=result.worker_started, stdout=result.stdout,
                                      stdout_truncated=result.stdout_truncated, code_sha256=code_sha,
                                      reviewed=node.reviewed, isolation=result.isolation)
        record.output = result.output
        return result.output

    @staticmethod
    def entry_source(node: CodeNode, source: str) -> str:
        """The sandbox always calls run(inputs); other entry points get a two-line shim, also sandboxed."""
        if node.entrypoint == "run" and node.call == "inputs":
            return source
        call = f"{node.entrypoint}(inputs)" if node.call == "inputs" else f"{node.entrypoint}()"
        return f"{source}\n\n\ndef run(inputs):\n    return {{'result': {call}}}\n"

    def _run_consensus(self, node: ConsensusNode, values: dict[str, Any], trace: list[TraceRecord],
                       run_index: int) -> Any:
        """Samples in waves, each wave decoded as one batch: all n at once, or with early stop only as many as
        could still reach the agreement asked for (so no more samples run than one at a time would)."""
        record = TraceRecord(run=run_index, node=node.id, kind="consensus", inputs={r: values[r] for r in node.reads})
        trace.append(record)
        started = time.perf_counter()
        samples: list[Any] = []
        failures: list[dict[str, Any]] = []
        needed = math.ceil(node.early_stop.agreement * node.n) if node.early_stop else None
        drawn = 0
        while drawn < node.n:
            if node.early_stop is None or needed is None:
                size = node.n
            else:
                best = aggregate(samples, node.aggregator).count if samples else 0
                size = max(1, node.early_stop.min_samples - len(samples), needed - best)
            wave = range(drawn, min(node.n, drawn + size))
            drawn = wave.stop
            for result in self._sample_wave(node, wave, values, trace, run_index):
                if isinstance(result, SgdeError):  # a failed sample is a lost vote, not a failed node
                    failures.append(result.to_dict())
                    continue
                try:
                    samples.append(lookup({"v": result}, "v." + node.key, node.id) if node.key else result)
                except SgdeError as exc:
                    failures.append(exc.to_dict())
            if node.early_stop is not None and needed is not None and samples \
                    and len(samples) >= node.early_stop.min_samples \
                    and aggregate(samples, node.aggregator).count >= needed:
                break
        record.duration_s = time.perf_counter() - started
        record.samples_used = len(samples) + len(failures)
        if not samples:
            record.error = {"type": "no_samples", "message": f"all {len(failures)} samples failed",
                            "causes": failures[:3]}
            raise NodeFailed(f"all {len(failures)} samples failed", node=node.id, cause=failures[0])
        try:
            vote = aggregate(samples, node.aggregator)
        except SgdeError as exc:
            exc.node = node.id
            record.error = exc.to_dict()
            raise
        record.output = vote.value
        record.agreement = vote.count / record.samples_used
        return vote.value

    def _sample_wave(self, node: ConsensusNode, wave: range, values: dict[str, Any], trace: list[TraceRecord],
                     run_index: int) -> list[Any]:
        """One value (or the SgdeError that lost it) per sample of the wave. Every sample runs with its own seed
        offset; a sub-plan runs node by node across the wave, so samples with the same prompt share a batch.
        Each sample's records go into the trace together, in sample order."""
        sub_traces: list[list[TraceRecord]] = [[] for _ in wave]
        if node.child is not None:
            child = node.child
            jobs = [_LlmJob(_seeded(child.sampling, i), values, sub_traces[k], i) for k, i in enumerate(wave)]
            results = self._run_llm_jobs(child, jobs, run_index)
        else:
            assert node.body is not None  # the plan's validator: exactly one of child, body
            scopes = [{r: values[r] for r in node.reads} for _ in wave]
            results = [None] * len(wave)
            for inner in body_order(node.body):
                alive = [k for k in range(len(wave)) if not isinstance(results[k], SgdeError)]
                if isinstance(inner, LlmNode):
                    jobs = [_LlmJob(_seeded(inner.sampling, wave[k]), scopes[k], sub_traces[k], wave[k])
                            for k in alive]
                    for k, value in zip(alive, self._run_llm_jobs(inner, jobs, run_index), strict=True):
                        results[k] = value if isinstance(value, SgdeError) else None
                        scopes[k][inner.id] = value
                    continue
                for k in alive:
                    try:
                        scopes[k][inner.id] = self._run_code(inner, scopes[k], sub_traces[k], run_index,
                                                             sample=wave[k])
                    except SgdeError as exc:
                        results[k] = exc
            for k in range(len(wave)):
                if not isinstance(results[k], SgdeError):
                    try:
                        results[k] = lookup(scopes[k], node.body.output, node.id)
                    except SgdeError as exc:
                        results[k] = exc
        for sub_trace in sub_traces:
            trace.extend(sub_trace)
        return results


@dataclass
class _LlmJob:
    """One sample of an llm node: its sampling (seed), the values its template reads, where its record goes."""

    sampling: Sampling
    values: dict[str, Any]
    trace: list[TraceRecord]
    sample: int | None


def _seeded(sampling: Sampling, offset: int) -> Sampling:
    return sampling.model_copy(update={"seed": sampling.seed + offset})
