"""Verification of a candidate's generated code before the candidate may be scored:
static audit, a sandbox compile under the node's policy, then its property tests.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from sgde.runtime.errors import SandboxError
from sgde.runtime.executor import Executor
from sgde.runtime.plan import CodeNode, Plan

from .audit import audit_source
from .edits import Candidate, code_edits
from .errors import CodeRejected
from .properties import check_properties


class CodeVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str
    sha256: str
    draws: int
    examples: int
    notes: tuple[str, ...] = ()


def verify_candidate(plan: Plan, candidate: Candidate, executor: Executor) -> list[CodeVerdict]:
    """Every piece of fixed code the candidate adds, checked in ``plan`` (the edited plan); CodeRejected on failure."""
    verdicts = []
    for node_id, _source, _properties, _reads in code_edits(candidate):
        node = plan.node(node_id)
        if not isinstance(node, CodeNode) or node.source is None:
            continue  # a later edit of the same candidate replaced it
        if node.properties is None:
            raise CodeRejected("new code needs properties (its property tests)", node=node_id, field="properties")
        policy = executor.policies[node_id]
        source = executor.entry_source(node, node.source)
        report = audit_source(node.source, allowed_imports=policy.allowed_imports, node=node_id,
                              entrypoint=node.entrypoint)
        backend = executor.sandbox(policy.backend)
        try:
            backend.check(source, policy, node=node_id)
        except SandboxError as exc:
            raise CodeRejected(f"the sandbox refused the code: {exc.message}", node=node_id, field="source") from None
        reads = [r for r in node.reads if r != node.source_from]
        draws = check_properties(source, node.properties, reads=reads, backend=backend, policy=policy, node=node_id)
        verdicts.append(CodeVerdict(node=node_id, sha256=node.sha256 or "", draws=draws,
                                    examples=len(node.properties.examples),
                                    notes=tuple(str(f) for f in report.findings)))
    return verdicts
