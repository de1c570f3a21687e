"""`sgde approve`: a reviewer signs a plan they reviewed (keys and verification are the runtime's: `sgde key`,
`sgde verify`, `sgde run --require-approval`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sgde.runtime.cli_output import emit, fail
from sgde.runtime.errors import ApprovalError, SgdeError


def approve_command(
        plan_path: Path = typer.Argument(..., metavar="PLAN"),
        key: Path = typer.Option(..., "--key", help="private key from `sgde key generate`"),
        reviewer: str = typer.Option(..., "--reviewer", help="who approves (name or e-mail)"),
        note: str = typer.Option("", "--note", help="what the reviewer wants on record"),
        policy: str = typer.Option("default", "--policy", help="the deployment policy the plan is approved for"),
        out: Optional[Path] = typer.Option(None, "--out", help="approval file (default: PLAN.approval.json)"),
) -> None:
    """Sign a plan: its content hash, every node's hash, every code node's SHA-256 and the review's finding
    counts, with an Ed25519 key; appended to PLAN.approval.json (several reviewers may sign)."""
    from sgde.runtime.approval import add_approval, approval_path, load_private_key, sign, unreviewed_nodes
    from sgde.runtime.plan_io import load_plan
    from sgde.runtime.policy import load_policy
    try:
        plan = load_plan(plan_path)
        deployment = load_policy(policy)
        load_private_key(key)  # a key that cannot sign fails before the review runs
        student_code = unreviewed_nodes(plan)
        if student_code and not deployment.allow_unreviewed_code:
            raise ApprovalError(f"runs student-written code (source_from) that no one can review; approve it only "
                                f"for a deployment policy that says allow_unreviewed_code: true (policy "
                                f"{deployment.name!r} does not)", node=student_code[0], field="source_from")
        from .review import review_plan
        review = review_plan(plan, plan_path, policy=deployment)
        approval = sign(plan, key, reviewer=reviewer, note=note, findings=review.verdict_counts(),
                        policy=deployment.name)
        path = out or approval_path(plan_path)
        approvals = add_approval(path, approval)
    except SgdeError as exc:
        fail(exc)
    except OSError as exc:
        fail(f"cannot write the approval: {exc}")
    emit({"approved": plan.name, "plan_sha256": approval.statement.plan_sha256, "key_id": approval.statement.key_id,
          "reviewer": reviewer, "findings": approval.statement.findings, "file": str(path),
          "approvals": len(approvals.approvals)})
