"""`sgde review`: everything a security reviewer needs to decide whether a compiled plan may run.

For a reviewer who never saw the compile: every piece of code that will run
(with its hash, its author and its imports), what it may touch (the policy
each code node resolves to under the deployment policy), what checked it (the
AST allow-list, bandit, the property tests, optionally re-run now), the
prompts the student gets, and where untrusted text flows — above all into
code the student writes at run time (``source_from``), which nobody reviews.

`review_plan` builds a `PlanReview`; `render_markdown` (people: a terminal or
a code host), `render_json` (scripts) and `render_sarif` (code-scanning tools,
SARIF 2.1.0 with locations in the plan file) write it out.

The compile path's audit (`audit_source`, `Finding`) is left exactly as it is:
recorded teacher transcripts replay against its messages. What the review adds
(bandit's CWE and confidence, the rules below) lives here.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import warnings
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sgde.runtime import __version__
from sgde.runtime.errors import SgdeError
from sgde.runtime.executor import Executor, resolve_plan
from sgde.runtime.plan import (
    ChoiceStrategy,
    CodeNode,
    ConsensusNode,
    IntegerStrategy,
    ListStrategy,
    LlmNode,
    NumberStrategy,
    ObjectStrategy,
    Plan,
    PropertyExample,
    Sampling,
    Shot,
    TemplateStrategy,
    TextStrategy,
    split_ref,
)
from sgde.runtime.policy import Policy, load_policy
from sgde.runtime.sandbox import SandboxBackend, make_backend
from sgde.runtime.sandbox.base import isolation_for
from sgde.runtime.yaml_load import compose_yaml

from .audit import allow_list_findings, bandit_issues
from .errors import CodeRejected
from .properties import check_properties

REVIEW_FORMAT = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: untrusted-text paths listed before the list is cut short (and the review says so)
MAX_PATHS = 200

Severity = Literal["high", "medium", "low"]
_LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "2.0"}  # code hosts' 0-10 scale
_RANK = {"high": 0, "medium": 1, "low": 2}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- rules -------------------------------------------------------------------------------

class Rule(_Frozen):
    """One check a finding can come from, documented for the reviewer (and for SARIF's tool.driver.rules)."""
    id: str = Field(description="sgde.* (the review's own), ast.* (the compile's AST allow-list) or bandit's B*")
    name: str = Field(description="short machine name")
    short: str = Field(description="one-line description")
    help: str = Field(description="what it means and what to do")
    help_uri: str | None = None
    cwe: int | None = None
    severity: Severity | None = Field(None, description="the severity of its findings; None: per finding (bandit)")
    tags: tuple[str, ...] = ("security",)


#: the review's own checks: kept few, each one a reason to stop and read
OWN_RULES: tuple[Rule, ...] = (
    Rule(id="sgde.unreviewed-code", name="unreviewed-code", cwe=94, severity="high",
         short="Runs code written by the student model at run time",
         help="A code node with source_from runs whatever program an upstream llm node wrote for this input. "
              "No person, no audit and no property test sees that program before it runs, and anything that "
              "can steer the student (a prompt-injected input) can steer the program. Only the sandbox stands "
              "between it and the machine: run it under a policy that requires the OS walls (e.g. strict), and "
              "approve it only for a deployment that says allow_unreviewed_code: true."),
    Rule(id="sgde.swallowed-error", name="swallowed-error", cwe=703, severity="medium",
         short="A broad except turns any failure into a constant answer",
         help="`except:` or `except Exception` whose handler returns or assigns a constant hides every failure "
              "(a parse error, a missing field, a bug) behind a plausible-looking value, so a wrong answer "
              "leaves the plan as if it were right. Catch the specific exception, or let the node fail: a "
              "failed node is reported, a made-up number is not."),
    Rule(id="sgde.properties-failed", name="properties-failed", severity="medium", tags=("correctness",),
         short="The code fails its recorded property tests",
         help="Re-run with --rerun-properties, the node's code no longer satisfies the property tests stored "
              "with it (an example gives another output, an invariant is false, or the code fails). Either "
              "the code or its tests changed after the compile verified them, or this host's sandbox behaves "
              "differently: find out which before the plan runs."),
)
_OWN = {rule.id: rule for rule in OWN_RULES}

#: the compile's AST allow-list (`sgde.compiler.audit.allow_list_findings`): every refusal is high
ALLOW_LIST_RULES: dict[str, Rule] = {rule.id: rule for rule in (
    Rule(id="ast.syntax", name="syntax", severity="high", short="The code does not parse",
         help="Python refuses the source; nothing else about it can be checked."),
    Rule(id="ast.node", name="node", severity="high", short="A Python construct outside the allow-list",
         help="Generated code may use only plain functions, expressions and control flow: no classes, "
              "async, with, global or similar. The compile refuses code that needs more."),
    Rule(id="ast.name", name="name", severity="high", cwe=94, short="A builtin that reaches around the sandbox",
         help="eval, exec, compile, open, __import__, getattr and other introspection builtins, and every "
              "underscore name, are refused: they are how code escapes a language-level sandbox."),
    Rule(id="ast.attribute", name="attribute", severity="high", short="An underscore (private or dunder) attribute",
         help="Attributes that start with _ reach interpreter internals (__class__, __globals__, ...)."),
    Rule(id="ast.function", name="function", severity="high", short="A decorated or underscore-named function",
         help="Decorators run code at definition time and underscore names hide functions from review."),
    Rule(id="ast.import", name="import", severity="high", short="An import outside the policy's allow-list",
         help="Node code may import only the modules its policy allows (allowed_imports); anything else "
              "(os, subprocess, pickle, socket, ...) reaches the host."),
)}


# --- the review --------------------------------------------------------------------------

class ReviewFinding(_Frozen):
    rule: str = Field(description="rule id (see PlanReview.rules)")
    tool: Literal["sgde", "ast", "bandit"]
    severity: Severity
    confidence: str | None = Field(None, description="bandit's confidence: high, medium or low")
    cwe: int | None = None
    node: str
    line: int | None = Field(None, description="line in the node's source (1-based); None: the node as a whole")
    plan_line: int | None = Field(None, description="line in the plan file that holds it (1-based)")
    message: str


class ResolvedPolicy(_Frozen):
    """What a code node may use: the deployment policy tightened by the node's own policy/override."""
    name: str
    resolved_from: str = Field(description="how the policy was arrived at")
    backend: str
    language_guard: str
    cpu_seconds: float
    wall_seconds: float
    memory_mb: int
    output_bytes: int
    allowed_imports: tuple[str, ...]
    isolation: str = Field(description="what this node gets: per_call (fresh process per call) or per_node")
    require: tuple[str, ...] = Field(description="walls the host must have in force, or the node is refused")
    network: str


class PropertiesReview(_Frozen):
    inputs: dict[str, str] = Field(description="each input's strategy, in words")
    invariants: tuple[str, ...]
    examples: tuple[PropertyExample, ...]
    max_examples: int


class PropertyRun(_Frozen):
    status: Literal["passed", "failed", "error"]
    draws: int | None = Field(None, description="hypothesis draws that passed")
    examples: int = 0
    message: str | None = Field(None, description="the CodeRejected (or sandbox) message on failure")


class CodeNodeReview(_Frozen):
    id: str
    description: str
    reads: tuple[str, ...]
    reviewed: bool = Field(description="fixed source in the plan (True) or student-written at run time (False)")
    source: str | None
    sha256: str | None
    source_from: str | None
    entrypoint: str
    call: str
    author: str = Field(description="who wrote the code")
    history: tuple[str, ...] = Field((), description="the compile iterations whose edits wrote this node")
    imports: tuple[str, ...] = Field((), description="import statements, from the AST")
    audit: tuple[ReviewFinding, ...] = Field((), description="the static audit: allow-list, bandit, sgde rules")
    audit_note: str = Field(description="what was audited, or why nothing could be")
    policy: ResolvedPolicy
    properties: PropertiesReview | None = None
    rerun: PropertyRun | None = None


class ConsensusReview(_Frozen):
    n: int
    aggregator: dict[str, Any]
    key: str | None
    early_stop: dict[str, Any] | None
    node: str | None = Field(None, description="the consensus node whose sub-plan samples this llm node")
    body_output: str | None = Field(None, description="the sub-plan value each sample votes with")


class LlmNodeReview(_Frozen):
    id: str
    kind: Literal["llm", "consensus"]
    description: str
    reads: tuple[str, ...]
    system: str
    user: str
    shots: tuple[Shot, ...]
    grammar: str = Field(description="how decoding is constrained, in words")
    gbnf: str | None = None
    sampling: Sampling
    parser: dict[str, Any]
    consensus: ConsensusReview | None = None


class FlowPath(_Frozen):
    nodes: tuple[str, ...] = Field(description="origin first, the code node last")
    origin: Literal["plan input", "student output"]
    runs_as_code: bool = Field(description="the last hop is source_from: the text becomes the program")
    through_student: bool = Field(description="the text passes through (or comes from) an llm/consensus node")
    text: str


class DataFlow(_Frozen):
    reaches: dict[str, tuple[str, ...]] = Field(description="plan input -> nodes it reaches through reads")
    paths: tuple[FlowPath, ...] = Field(description="untrusted text into code: each path from a plan input "
                                        "or a student output to a code node")
    truncated: bool = False


class PlanReview(_Frozen):
    sgde_review: int = REVIEW_FORMAT
    verdict: str = Field("", description="high=N medium=N low=N student_code=yes|no (filled from the findings)")
    warning: str | None = Field(None, description="set when the plan runs student-written code")
    plan_name: str
    plan_path: str = Field(description="the plan file as given")
    plan_sha256: str = Field(description="Plan.content_hash(): what an approval signs")
    deployment_policy: str
    student_model: str | None
    teacher: str | None
    compiler_version: str | None
    student_code: tuple[str, ...] = Field(description="code nodes that run student-written code")
    findings: tuple[ReviewFinding, ...] = Field(description="every finding, most severe first")
    code_nodes: tuple[CodeNodeReview, ...]
    llm_nodes: tuple[LlmNodeReview, ...]
    flow: DataFlow
    notes: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = Field(description="the review's own rules and every other rule that occurs")

    @model_validator(mode="before")
    @classmethod
    def _fill_verdict(cls, data: Any) -> Any:
        """The verdict is derived, never given: it cannot disagree with the findings."""
        if isinstance(data, dict):
            counts = {s: 0 for s in _RANK}
            for finding in data.get("findings", ()):
                severity = finding["severity"] if isinstance(finding, dict) else finding.severity
                counts[severity] += 1
            student = "yes" if data.get("student_code") else "no"
            data = {**data, "verdict": " ".join(f"{k}={v}" for k, v in counts.items()) + f" student_code={student}"}
        return data

    def verdict_counts(self) -> dict[str, int]:
        """{"high": n, "medium": n, "low": n}: what `sgde approve` signs next to the plan."""
        counts = {s: 0 for s in _RANK}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    @property
    def verdict_line(self) -> str:
        return f"verdict: {self.verdict}"


# --- building it ---------------------------------------------------------------------------

def review_plan(plan: Plan, plan_path: Path, *, policy: str | Policy = "default", rerun_properties: bool = False,
                backend: SandboxBackend | None = None) -> PlanReview:
    """Review ``plan`` (loaded from ``plan_path``) for deployment under ``policy``.

    Raises PlanError/PolicyError when a node's policy cannot be resolved against the deployment
    policy. With ``rerun_properties`` the property tests run now, in ``backend`` or in the
    sandbox each node's policy names (created here and closed again)."""
    plan_path = Path(plan_path)
    deployment = load_policy(policy) if isinstance(policy, str) else policy
    # the check a deployment makes (grammars are llama.cpp's business, not the reviewer's machine's)
    policies = resolve_plan(plan, deployment, plan_path.parent, grammars=False).policies
    lines = _PlanLines.read(plan_path)
    notes: list[str] = []
    if deployment.require_approval and any(n.source_from for n in plan.code_nodes()) \
            and not deployment.allow_unreviewed_code:
        notes.append(f"deployment policy {deployment.name!r} requires approval and does not allow unreviewed code: "
                     "it refuses to run this plan")
    own_backends: dict[str, SandboxBackend] = {}
    code_reviews = []
    try:
        for node in plan.all_nodes():
            if isinstance(node, CodeNode):
                policy = policies[node.id]
                run = None
                if rerun_properties and node.source is not None and node.properties is not None:
                    try:
                        chosen = backend or own_backends.get(policy.backend)
                        if chosen is None:
                            chosen = own_backends[policy.backend] = make_backend(policy.backend)
                        run = _rerun(node, chosen, policy)
                    except SgdeError as exc:  # no such sandbox on this host: say so, review the rest
                        run = PropertyRun(status="error", message=str(exc))
                code_reviews.append(_review_code(plan, node, _resolved(node, policy, deployment), run, lines,
                                                 notes))
    finally:
        for own in own_backends.values():
            own.close()
    findings = sorted((f for c in code_reviews for f in c.audit),
                      key=lambda f: (_RANK[f.severity], f.node, f.line or 0, f.rule))
    student_code = tuple(c.id for c in code_reviews if not c.reviewed)
    flow = data_flow(plan)
    used = {f.rule: f.tool for f in findings}
    rules = list(OWN_RULES) + [_allow_list_rule(r) for r in sorted(used) if used[r] == "ast"] \
        + _bandit_rules(sorted(r for r in used if used[r] == "bandit"))
    return PlanReview(
        warning=_student_code_warning(plan, student_code, flow), plan_name=plan.name, plan_path=str(plan_path),
        plan_sha256=plan.content_hash(), deployment_policy=deployment.name,
        student_model=plan.provenance.student_model, teacher=plan.provenance.teacher,
        compiler_version=plan.provenance.compiler_version, student_code=student_code, findings=tuple(findings),
        code_nodes=tuple(code_reviews),
        llm_nodes=tuple(_llm_reviews(plan)),
        flow=flow, notes=tuple(dict.fromkeys(notes)), rules=tuple(rules))


def _resolved(node: CodeNode, policy: Policy, deployment: Policy) -> ResolvedPolicy:
    steps = [f"deployment policy {deployment.name!r}"]
    if node.policy is not None:
        steps.append(f"tightened by the node's policy {node.policy!r}")
    if node.policy_override is not None:
        override = node.policy_override.model_dump(mode="json", exclude_none=True)
        steps.append(f"tightened by policy_override {json.dumps(override, sort_keys=True)}")
    return ResolvedPolicy(
        name=policy.name, resolved_from=", ".join(steps), backend=policy.backend,
        language_guard=policy.language_guard, cpu_seconds=policy.cpu_seconds, wall_seconds=policy.wall_seconds,
        memory_mb=policy.memory_mb, output_bytes=policy.output_bytes, allowed_imports=policy.allowed_imports,
        isolation=isolation_for(policy, node.reviewed), require=policy.require, network=policy.network)


def _review_code(plan: Plan, node: CodeNode, policy: ResolvedPolicy, run: PropertyRun | None,
                 lines: "_PlanLines", notes: list[str]) -> CodeNodeReview:
    findings: list[ReviewFinding] = []
    if node.source is None:
        author = f"the student, at run time, unreviewed — output of node {node.source_from!r}"
        history: tuple[str, ...] = ()
        imports: tuple[str, ...] = ()
        audit_note = (f"No source exists before run time: the program is whatever node {node.source_from!r} writes "
                      "for each input, so neither the AST allow-list nor bandit nor any property test has seen "
                      "it. At run time only the sandbox checks it (its language guard, when the policy's "
                      "language_guard is restricted) and contains it (the OS walls).")
        findings.append(ReviewFinding(
            rule="sgde.unreviewed-code", tool="sgde", severity="high", cwe=94, node=node.id,
            plan_line=lines.key_line(node.id, "source_from"),
            message=f"node {node.id!r} runs a program the student writes at run time (source_from: "
                    f"{node.source_from}); nobody reviews it before it runs"))
    else:
        author, history = _author(plan, node)
        imports = imports_of(node.source)
        raw = [_from_audit(f, node.id) for f in allow_list_findings(node.source,
                                                                   allowed_imports=policy.allowed_imports)]
        try:
            raw += bandit_findings_detailed(node.source, node=node.id)
            tools = "the AST allow-list (under this node's allowed_imports) and bandit"
        except ImportError:
            tools = "the AST allow-list only: bandit is not installed (pip install 'sgde[compiler]')"
            notes.append("bandit is not installed: its checks did not run")
        raw += swallowed_errors(node.source, node=node.id)
        if run is not None and run.status == "failed":
            raw.append(ReviewFinding(rule="sgde.properties-failed", tool="sgde", severity="medium", node=node.id,
                                     message=f"the property tests fail on re-run: {run.message}"))
        findings = [f.model_copy(update={"plan_line": lines.code_line(node.id, f.line, node.source)}) for f in raw]
        audit_note = f"Audited with {tools}; sgde's own rules checked for swallowed errors."
    if run is not None and run.status == "error":
        notes.append(f"node {node.id!r}: the property tests could not run here: {run.message}")
    return CodeNodeReview(
        id=node.id, description=node.description, reads=node.reads, reviewed=node.reviewed, source=node.source,
        sha256=node.sha256, source_from=node.source_from, entrypoint=node.entrypoint, call=node.call, author=author,
        history=history, imports=imports, audit=tuple(sorted(findings, key=lambda f: (f.line or 0, f.rule))),
        audit_note=audit_note, policy=policy, properties=_review_properties(node), rerun=run)


def _author(plan: Plan, node: CodeNode) -> tuple[str, tuple[str, ...]]:
    teacher = plan.provenance.teacher
    mention = re.compile(r"\(\s*" + re.escape(node.id) + r"\s*[,)]")
    history = tuple(f"iteration {row.get('iteration', '?')}, {row.get('change')}"
                    for row in plan.provenance.score_history if mention.search(str(row.get("change", ""))))
    if teacher:
        who = f"teacher ({teacher})"
        if not history:
            who += "; no compile iteration names this node (it may come from the task's seed plan)"
        return who, history
    return "unknown: the plan's provenance names no teacher (written or edited by hand?)", history


def _from_audit(finding: Any, node: str) -> ReviewFinding:
    rule = _allow_list_rule(f"ast.{finding.rule}")
    return ReviewFinding(rule=rule.id, tool="ast", severity="high", cwe=rule.cwe, node=node,
                         line=finding.line or None, message=finding.message)


def _allow_list_rule(rule_id: str) -> Rule:
    name = rule_id.removeprefix("ast.")
    return ALLOW_LIST_RULES.get(rule_id) or Rule(id=rule_id, name=name, severity="high",
                                                 short=f"Refused by the AST allow-list ({name})",
                                                 help="The compile's static audit refuses this code.")


def imports_of(source: str) -> tuple[str, ...]:
    """The import statements of ``source``, as written (empty when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
            found.append(f"from {'.' * node.level}{node.module or ''} import {names}")
    return tuple(found)


def bandit_findings_detailed(source: str, *, node: str) -> list[ReviewFinding]:
    """bandit's issues with what the compile's `bandit_findings` leaves out: CWE and confidence.

    Raises ImportError when bandit is not installed."""
    issues = bandit_issues(source)
    out = []
    for issue in issues:
        severity = str(issue.severity).lower()
        cwe = getattr(getattr(issue, "cwe", None), "id", 0)
        out.append(ReviewFinding(rule=issue.test_id, tool="bandit",
                                 severity=severity if severity in _RANK else "low",
                                 confidence=str(issue.confidence).lower(), cwe=cwe or None, node=node,
                                 line=issue.lineno if isinstance(issue.lineno, int) else None, message=issue.text))
    return out


def _bandit_rules(ids: list[str]) -> list[Rule]:
    if not ids:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as above: bandit's own deprecations
        from bandit.core import docs_utils, extension_loader
    rules = []
    for bid in ids:
        plugin = extension_loader.MANAGER.plugins_by_id.get(bid)
        listed = extension_loader.MANAGER.blacklist_by_id.get(bid)
        name = plugin.plugin.__name__ if plugin is not None else \
            str(listed["name"]).replace("-", "_") if listed else bid
        saved = dict(listed) if listed else None
        help_uri = docs_utils.get_url(bid)
        if listed and saved:  # get_url rewrites the blacklist entry's name in place: leave bandit as it was
            listed.update(saved)
        short = name.replace("_", " ").capitalize()
        rules.append(Rule(id=bid, name=name, short=f"bandit {bid}: {short}",
                          help=f"bandit's check {bid} ({name}); see its documentation.", help_uri=help_uri))
    return rules


# --- sgde.swallowed-error ------------------------------------------------------------------------

_BROAD = ("Exception", "BaseException")


def _broad(handler: ast.ExceptHandler) -> str | None:
    """'except:' / 'except Exception' / 'except (ValueError, BaseException)' -> what it catches, else None."""
    if handler.type is None:
        return "except:"
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for kind in kinds:
        name = kind.id if isinstance(kind, ast.Name) else kind.attr if isinstance(kind, ast.Attribute) else None
        if name in _BROAD:
            return f"except {ast.unparse(handler.type)}"
    return None


def _constant(expr: ast.expr | None) -> bool:
    if expr is None or isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.UnaryOp):
        return isinstance(expr.operand, ast.Constant)
    if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
        return all(_constant(e) for e in expr.elts)
    if isinstance(expr, ast.Dict):
        return all(k is not None and _constant(k) for k in expr.keys) and all(_constant(v) for v in expr.values)
    return False


def swallowed_errors(source: str, *, node: str) -> list[ReviewFinding]:
    """sgde.swallowed-error: a broad except whose handler (not re-raising) returns or assigns a constant."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or (what := _broad(handler)) is None:
            continue
        if any(isinstance(stmt, ast.Raise) for stmt in handler.body):
            continue
        for stmt in _statements(handler.body):
            value = stmt.value if isinstance(stmt, (ast.Return, ast.Assign, ast.AnnAssign)) else ...
            if value is ... or (isinstance(stmt, ast.AnnAssign) and value is None) or not _constant(value):
                continue
            shown = "None" if value is None else ast.unparse(value)
            action = "returns" if isinstance(stmt, ast.Return) else "assigns"
            out.append(ReviewFinding(
                rule="sgde.swallowed-error", tool="sgde", severity="medium", cwe=703, node=node,
                line=handler.lineno,
                message=f"`{what}` (line {handler.lineno}) {action} the constant {shown} (line {stmt.lineno}): "
                        "any failure becomes a plausible-looking answer"))
            break
    return out


def _statements(body: list[ast.stmt]):
    """Statements of a handler, into its ifs and loops but not into nested functions."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(stmt, field, None) or [])


# --- property tests --------------------------------------------------------------------------

def describe_strategy(spec: Any) -> str:
    """A property-test input strategy in words."""
    match spec:
        case IntegerStrategy():
            return f"integers {spec.min}..{spec.max}"
        case NumberStrategy():
            places = f", rounded to {spec.places} decimal places" if spec.places is not None else ""
            return f"numbers {spec.min}..{spec.max}{places}"
        case TextStrategy() if spec.pattern is not None:
            return f"text matching /{spec.pattern}/"
        case TextStrategy():
            alphabet = f" from {spec.alphabet!r}" if spec.alphabet else " (any characters)"
            return f"text of {spec.min_size}..{spec.max_size} characters{alphabet}"
        case ChoiceStrategy():
            return f"one of {json.dumps(list(spec.values), ensure_ascii=False)}"
        case TemplateStrategy():
            slots = "; ".join(f"{name}: {describe_strategy(s)}" for name, s in spec.slots.items())
            return f"text from the template {spec.template!r}" + (f" with {slots}" if slots else "")
        case ObjectStrategy():
            return "an object {" + ", ".join(f"{k}: {describe_strategy(s)}" for k, s in spec.fields.items()) + "}"
        case ListStrategy():
            return f"lists of {spec.min_size}..{spec.max_size} items, each {describe_strategy(spec.items)}"
    return repr(spec)


def _review_properties(node: CodeNode) -> PropertiesReview | None:
    if node.properties is None:
        return None
    props = node.properties
    return PropertiesReview(inputs={k: describe_strategy(s) for k, s in props.inputs.items()},
                            invariants=props.invariants, examples=props.examples, max_examples=props.max_examples)


def _rerun(node: CodeNode, backend: SandboxBackend, policy: Policy) -> PropertyRun:
    assert node.source is not None and node.properties is not None
    reads = [r for r in node.reads if r != node.source_from]
    try:
        draws = check_properties(Executor.entry_source(node, node.source), node.properties, reads=reads,
                                 backend=backend, policy=policy, node=node.id)
    except CodeRejected as exc:
        return PropertyRun(status="failed", examples=len(node.properties.examples), message=str(exc))
    except SgdeError as exc:
        return PropertyRun(status="error", message=str(exc))
    return PropertyRun(status="passed", draws=draws, examples=len(node.properties.examples))


def data_flow(plan: Plan) -> DataFlow:
    """Which plan inputs reach which nodes, and every path of untrusted text into a code node.

    Sub-plan nodes take part like any other node; a consensus node with a body reads its body's output."""
    reads: dict[str, tuple[str, ...]] = {}
    by_id: dict[str, LlmNode | CodeNode | ConsensusNode] = {}
    for node in plan.all_nodes():
        by_id[node.id] = node
        reads[node.id] = (split_ref(node.body.output)[0],) \
            if isinstance(node, ConsensusNode) and node.body is not None else node.reads
    order = TopologicalSorter({k: [r for r in v if r in by_id] for k, v in reads.items()}).static_order()
    upstream_inputs: dict[str, set[str]] = {}
    for node_id in order:
        found: set[str] = set()
        for ref in reads[node_id]:
            found |= {ref} if ref in plan.inputs else upstream_inputs[ref]
        upstream_inputs[node_id] = found
    reaches = {name: tuple(n.id for n in plan.all_nodes() if name in upstream_inputs[n.id]) for name in plan.inputs}

    def student(node_id: str) -> bool:
        node = by_id.get(node_id)
        return isinstance(node, LlmNode) or (isinstance(node, ConsensusNode) and node.child is not None)

    def paths_to(node_id: str) -> list[list[str]]:
        """Paths from an untrusted origin to node_id: plan inputs, and student nodes no plan input reaches."""
        out: list[list[str]] = []
        if student(node_id) and not upstream_inputs[node_id]:
            out.append([node_id])
        for ref in reads[node_id]:
            if ref in plan.inputs:
                out.append([ref, node_id])
            else:
                out += [path + [node_id] for path in paths_to(ref)]
            if len(out) > MAX_PATHS:
                break
        return out

    paths: list[FlowPath] = []
    truncated = False
    for node in plan.code_nodes():
        for path in paths_to(node.id):
            if len(path) < 2:
                continue
            if len(paths) >= MAX_PATHS:
                truncated = True
                break
            as_code = node.source_from is not None and path[-2] == node.source_from
            how = "source_from: runs as code" if as_code else "input of the code"
            paths.append(FlowPath(nodes=tuple(path), origin="plan input" if path[0] in plan.inputs else
                                  "student output", runs_as_code=as_code,
                                  through_student=any(student(p) for p in path),
                                  text=" → ".join(path) + f" ({how})"))
    return DataFlow(reaches=reaches, paths=tuple(paths), truncated=truncated)


def _student_code_warning(plan: Plan, student_code: tuple[str, ...], flow: DataFlow) -> str | None:
    if not student_code:
        return None
    fed = sorted({p.nodes[0] for p in flow.paths if p.runs_as_code and p.origin == "plan input"})
    source = f"from text that includes plan inputs ({', '.join(fed)})" if fed else "from text the student writes"
    nodes = ", ".join(repr(n) for n in student_code)
    return (f"This plan runs code written by the student model at run time, {source}. Nobody reviews that code; "
            f"only the sandbox stands between it and the machine (code node{'s' if len(student_code) > 1 else ''} "
            f"{nodes}).")


# --- llm nodes ----------------------------------------------------------------------------------

def _llm_reviews(plan: Plan) -> list[LlmNodeReview]:
    """Every prompt the student gets: llm nodes, consensus children, and the llm nodes of consensus sub-plans."""
    reviews = []
    for node in plan.nodes:
        if isinstance(node, LlmNode):
            reviews.append(_review_llm(node, node, None))
        elif isinstance(node, ConsensusNode):
            consensus = ConsensusReview(n=node.n, aggregator=node.aggregator.model_dump(mode="json"), key=node.key,
                                        early_stop=node.early_stop.model_dump(mode="json") if node.early_stop
                                        else None)
            if node.child is not None:
                reviews.append(_review_llm(node, node.child, consensus))
            else:
                assert node.body is not None  # the plan's validator: exactly one of child, body
                inner = consensus.model_copy(update={"node": node.id, "body_output": node.body.output})
                reviews += [_review_llm(n, n, inner) for n in node.body.nodes if isinstance(n, LlmNode)]
    return reviews


def _review_llm(node: LlmNode | ConsensusNode, llm: LlmNode, consensus: ConsensusReview | None) -> LlmNodeReview:
    if llm.grammar is None:
        grammar = "none: free text, then the parser"
    elif llm.grammar.gbnf:
        grammar = "GBNF, given in the plan"
    else:
        grammar = "derived from the parser's JSON schema (llama.cpp's converter)"
    return LlmNodeReview(id=node.id, kind=node.kind, description=node.description or llm.description,
                         reads=node.reads, system=llm.system, user=llm.user, shots=llm.shots, grammar=grammar,
                         gbnf=llm.grammar.gbnf if llm.grammar else None, sampling=llm.sampling,
                         parser=llm.parser.model_dump(mode="json", by_alias=True), consensus=consensus)


# --- where things sit in the plan file ------------------------------------------------------------

class _PlanLines:
    """Lines of the plan file (1-based) for a node's id, a key, or a line of its source."""

    def __init__(self, nodes: dict[str, dict[str, yaml.Node]], keys: dict[str, dict[str, int]]) -> None:
        self._values = nodes
        self._keys = keys

    @classmethod
    def read(cls, path: Path) -> "_PlanLines":
        try:
            root = compose_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return cls({}, {})
        values: dict[str, dict[str, yaml.Node]] = {}
        keys: dict[str, dict[str, int]] = {}
        items = list(_sequence(_mapping_get(root, "nodes")))
        for item in items:  # a consensus node's sub-plan nodes are located like top-level ones
            items += _sequence(_mapping_get(_mapping_get(item, "body"), "nodes"))
        for item in items:
            if not isinstance(item, yaml.MappingNode):
                continue
            fields = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            node_id = fields.get("id")
            if isinstance(node_id, yaml.ScalarNode):
                values[node_id.value] = fields
                keys[node_id.value] = {k.value: k.start_mark.line + 1 for k, _ in item.value
                                       if isinstance(k, yaml.ScalarNode)}
        return cls(values, keys)

    def key_line(self, node_id: str, key: str) -> int | None:
        keys = self._keys.get(node_id, {})
        return keys.get(key, keys.get("id"))

    def code_line(self, node_id: str, line: int | None, source_text: str) -> int | None:
        """A literal block (|) keeps code line k at the indicator's line + k; anything else: the id line."""
        source = self._values.get(node_id, {}).get("source")
        if line and isinstance(source, yaml.ScalarNode) and source.style == "|" and source.value == source_text \
                and 1 <= line <= len(source_text.splitlines()):
            return source.start_mark.line + 1 + line
        return self.key_line(node_id, "id")


def _sequence(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _mapping_get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


# --- renderers ---------------------------------------------------------------------------------

def render_json(review: PlanReview) -> str:
    """The review as JSON: the pydantic model dump (verdict and warning first)."""
    return review.model_dump_json(indent=2) + "\n"


def render_markdown(review: PlanReview) -> str:
    """For people: readable in a terminal and on a code host."""
    out = [f"# Review of plan `{review.plan_name}`", ""]
    if review.warning:
        out += [f"> **WARNING: student-written code.** {review.warning}", ""]
    out += ["## Summary", "", review.verdict_line, ""]
    code = review.code_nodes
    out += [f"- plan file: `{review.plan_path}`; content hash `{review.plan_sha256}`",
            f"- deployment policy: `{review.deployment_policy}`",
            f"- student: `{review.student_model or 'not recorded'}`; teacher: `{review.teacher or 'not recorded'}`; "
            f"compiler: {review.compiler_version or 'not recorded'}",
            f"- code nodes: {len(code)} ({sum(c.reviewed for c in code)} teacher-written and reviewable, "
            f"{len(review.student_code)} student-written at run time); llm nodes: {len(review.llm_nodes)}",
            f"- property tests: {_rerun_summary(code)}"]
    out += [f"- note: {note}" for note in review.notes]
    out += ["", "## Findings", ""]
    out += _finding_table(review.findings, with_node=True) if review.findings else ["No findings.", ""]
    out += _flow_section(review)
    out += ["## Code nodes", ""]
    for node in code:
        out += _code_section(node)
    if review.llm_nodes:
        out += ["## Student prompts (llm and consensus nodes)", ""]
        for node in review.llm_nodes:
            out += _llm_section(node)
    out += ["## Rules", "", "| rule | CWE | what it means |", "|---|---|---|"]
    for rule in review.rules:
        link = f" ([docs]({rule.help_uri}))" if rule.help_uri else ""
        out.append(f"| `{rule.id}` | {_cwe(rule.cwe)} | **{_cell(rule.short)}.** {_cell(rule.help)}{link} |")
    return "\n".join(out).rstrip("\n") + "\n"


def _rerun_summary(code: tuple[CodeNodeReview, ...]) -> str:
    runs = [(c.id, c.rerun) for c in code if c.rerun is not None]
    if not runs:
        return "not re-run (recorded in the plan; `--rerun-properties` runs them now)"
    return "re-run: " + "; ".join(f"`{node}` {run.status}" + (f" ({run.draws} draws)" if run.draws is not None
                                                               else "") for node, run in runs)


def _cell(text: object) -> str:
    """Text in a table cell: one line, pipes escaped."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code_span(text: str, *, table: bool = False) -> str:
    text = text.replace("\n", " ")
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _cwe(cwe: int | None) -> str:
    return f"[CWE-{cwe}](https://cwe.mitre.org/data/definitions/{cwe}.html)" if cwe else ""


def _fence(text: str, lang: str = "") -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks + lang, text.rstrip("\n"), ticks, ""]


def _numbered(source: str) -> str:
    lines = source.splitlines()
    width = len(str(len(lines)))
    return "\n".join(f"{i:>{width}}  {line}".rstrip() for i, line in enumerate(lines, 1))


def _finding_table(findings: tuple[ReviewFinding, ...], *, with_node: bool) -> list[str]:
    head = "| severity | rule | CWE | confidence |" + (" node |" if with_node else "") + " line | plan line | message |"
    out = [head, "|" + "---|" * head.count(" |")]
    for f in findings:
        node = f" `{f.node}` |" if with_node else ""
        out.append(f"| {f.severity} | `{f.rule}` | {_cwe(f.cwe)} | {f.confidence or ''} |{node} {f.line or ''} | "
                   f"{f.plan_line or ''} | {_cell(f.message)} |")
    return out + [""]


def _flow_section(review: PlanReview) -> list[str]:
    out = ["## Data flow", "", "Plan inputs are untrusted text, and so is everything the student writes (the "
           "output of every llm and consensus node).", "", "| plan input | reaches (through reads) |", "|---|---|"]
    for name, nodes in review.flow.reaches.items():
        out.append(f"| `{name}` | {', '.join(f'`{n}`' for n in nodes) or 'nothing'} |")
    out += ["", "### Untrusted text into code", ""]
    if not review.flow.paths:
        out.append("No untrusted text reaches a code node.")
    for path in review.flow.paths:
        mark = " — **the student's text runs as a program**" if path.runs_as_code else ""
        via = "; through the student" if path.through_student and not path.runs_as_code else ""
        out.append(f"- {_code_span(path.text)} ({path.origin}{via}){mark}")
    if review.flow.truncated:
        out.append(f"- ... cut at {MAX_PATHS} paths")
    return out + [""]


def _code_section(node: CodeNodeReview) -> list[str]:
    kind = "teacher-written, reviewable" if node.reviewed else "STUDENT-WRITTEN AT RUN TIME, UNREVIEWED"
    out = [f"### `{node.id}` (code: {kind})", ""]
    if node.description:
        out += [f"_{_cell(node.description)}_", ""]
    call = f"{node.entrypoint}(inputs)" if node.call == "inputs" else f"{node.entrypoint}()"
    out += [f"- written by: {node.author}"]
    out += [f"  - {_cell(h)}" for h in node.history]
    out += [f"- reads: {', '.join(f'`{r}`' for r in node.reads)}; called as `{call}`"]
    if node.source is not None:
        out += [f"- sha256: `{node.sha256}`",
                f"- imports: {', '.join(_code_span(i) for i in node.imports) or 'none'}", ""]
        out += _fence(_numbered(node.source), "python")
    else:
        out += [f"- source: the text node `{node.source_from}` outputs, different for every input", ""]
    out += ["#### Static audit", "", node.audit_note, ""]
    out += _finding_table(node.audit, with_node=False) if node.audit else ["No findings.", ""]
    p = node.policy
    out += ["#### Policy", "", f"{_cell(p.resolved_from)}.", "", "| setting | value |", "|---|---|"]
    rows = [("policy", p.name), ("backend", p.backend), ("language_guard", p.language_guard),
            ("cpu_seconds", p.cpu_seconds), ("wall_seconds", p.wall_seconds), ("memory_mb", p.memory_mb),
            ("output_bytes", p.output_bytes), ("allowed_imports", ", ".join(p.allowed_imports) or "none"),
            ("network", p.network), ("isolation", p.isolation),
            ("walls required (require)", ", ".join(p.require) or "none")]
    out += [f"| {k} | {_cell(v)} |" for k, v in rows] + [""]
    out += ["#### Property tests", ""]
    if node.properties is None:
        out += ["None: nothing checked this code's behaviour." if node.reviewed else
                "None can exist: the code does not exist before run time.", ""]
        return out
    props = node.properties
    out += [f"- {_code_span(name)}: {_code_span(words)}" for name, words in props.inputs.items()]
    out += [f"- invariant: {_code_span(inv)}" for inv in props.invariants]
    out += [f"- example: {_code_span(json.dumps(ex.inputs, ensure_ascii=False))} → "
            f"{_code_span(json.dumps(ex.output, ensure_ascii=False))}" for ex in props.examples]
    out += [f"- max_examples: {props.max_examples} hypothesis draws (derandomized)"]
    if node.rerun is not None:
        run = node.rerun
        detail = f"{run.draws} draws and {run.examples} examples" if run.status == "passed" else _cell(run.message)
        out += [f"- re-run now: **{run.status}** ({detail})"]
    return out + [""]


def _llm_section(node: LlmNodeReview) -> list[str]:
    out = [f"### `{node.id}` ({node.kind})", ""]
    if node.description:
        out += [f"_{_cell(node.description)}_", ""]
    s = node.sampling
    out += [f"- reads: {', '.join(f'`{r}`' for r in node.reads) or 'nothing'}",
            f"- sampling: temperature {s.temperature}, max_tokens {s.max_tokens}, seed {s.seed}, top_p {s.top_p}, "
            f"top_k {s.top_k}, min_p {s.min_p}, stop {json.dumps(list(s.stop), ensure_ascii=False)}",
            f"- parser: `{node.parser.get('kind')}`", f"- grammar: {node.grammar}"]
    if node.consensus is not None:
        c = node.consensus
        stop = f"; early stop {json.dumps(c.early_stop)}" if c.early_stop else "; no early stop"
        within = f" of the sub-plan of consensus node `{c.node}` (each sample votes with `{c.body_output}`)" \
            if c.node else ""
        out += [f"- consensus: {c.n} samples{within} (seeds seed, seed+1, ...), aggregator "
                f"{_code_span(json.dumps(c.aggregator))}" + (f" over field `{c.key}`" if c.key else "") + stop]
    out += [""]
    parser = {k: v for k, v in node.parser.items() if k != "kind"}
    if parser:
        out += ["Parser settings:", ""] + _fence(json.dumps(parser, indent=2, ensure_ascii=False), "json")
    if node.gbnf:
        out += ["Grammar (GBNF):", ""] + _fence(node.gbnf)
    out += ["System prompt:", ""] + (_fence(node.system, "text") if node.system else ["(empty)", ""])
    out += ["User template:", ""] + _fence(node.user, "text")
    for number, shot in enumerate(node.shots, 1):
        out += [f"Shot {number}, user:", ""] + _fence(shot.user, "text")
        out += [f"Shot {number}, assistant:", ""] + _fence(shot.assistant, "text")
    return out


def render_sarif(review: PlanReview) -> str:
    """SARIF 2.1.0: one run, tool.driver sgde, every finding located at its line of the plan file."""
    uri = _artifact_uri(review.plan_path)
    observed: dict[str, str] = {}
    for finding in review.findings:  # bandit's severity is per finding: a rule's level is its worst one here
        if _RANK[finding.severity] < _RANK[observed.get(finding.rule, "low")] or finding.rule not in observed:
            observed[finding.rule] = finding.severity
    rules = []
    for rule in review.rules:
        level = rule.severity or observed.get(rule.id, "low")
        entry: dict[str, Any] = {
            "id": rule.id, "name": rule.name, "shortDescription": {"text": rule.short},
            "help": {"text": rule.help},
            "defaultConfiguration": {"level": _LEVEL[level]},
            "properties": {"security-severity": _SECURITY_SEVERITY[level],
                           "tags": list(rule.tags) + ([f"external/cwe/cwe-{rule.cwe}"] if rule.cwe else [])}}
        if rule.help_uri:
            entry["helpUri"] = rule.help_uri
        rules.append(entry)
    index = {rule.id: i for i, rule in enumerate(review.rules)}
    sources = {c.id: c.source.splitlines() if c.source else [] for c in review.code_nodes}
    results = []
    for f in review.findings:
        region: dict[str, Any] = {}
        if f.plan_line:
            region["startLine"] = f.plan_line
            code = sources.get(f.node, [])
            if f.line and 1 <= f.line <= len(code):
                region["snippet"] = {"text": code[f.line - 1]}
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        if region:
            physical["region"] = region
        where = f"node {f.node!r}" + (f", line {f.line} of its code" if f.line else "")
        properties: dict[str, Any] = {"node": f.node, "severity": f.severity, "tool": f.tool}
        if f.line:
            properties["codeLine"] = f.line
        if f.confidence:
            properties["confidence"] = f.confidence
        if f.cwe:
            properties["cwe"] = f"CWE-{f.cwe}"
        fingerprint = hashlib.sha256(f"{f.rule}\0{f.node}\0{f.message}\0{f.line}".encode()).hexdigest()[:32]
        results.append({"ruleId": f.rule, "ruleIndex": index[f.rule], "level": _LEVEL[f.severity],
                        "message": {"text": f"{where}: {f.message}"},
                        "locations": [{"physicalLocation": physical,
                                       "logicalLocations": [{"name": f.node, "kind": "function",
                                                             "fullyQualifiedName": f"{review.plan_name}/{f.node}"}]}],
                        "partialFingerprints": {"sgdeFinding/v1": fingerprint},
                        "properties": properties})
    run = {"tool": {"driver": {"name": "sgde", "version": __version__, "semanticVersion": __version__,
                               "rules": rules}},
           "artifacts": [{"location": {"uri": uri}, "roles": ["analysisTarget"]}],
           "results": results,
           "properties": {"verdict": review.verdict, "planName": review.plan_name, "planSha256": review.plan_sha256,
                          "deploymentPolicy": review.deployment_policy, "studentCode": list(review.student_code),
                          **({"warning": review.warning} if review.warning else {})}}
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _artifact_uri(plan_path: str) -> str:
    """The plan path as given, as a URI reference: relative stays relative; absolute becomes file://."""
    path = Path(plan_path)
    return path.resolve().as_uri() if path.is_absolute() else quote(path.as_posix())


RENDERERS = {"md": render_markdown, "json": render_json, "sarif": render_sarif}
