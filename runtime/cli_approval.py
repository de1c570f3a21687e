"""`sgde key generate`, `sgde verify`, and the approval gate of `sgde run` (signing is `sgde approve`, in the
compiler)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import typer

from .cli_output import emit, fail
from .errors import SgdeError

if TYPE_CHECKING:  # pragma: no cover - the CLI imports these lazily
    from .approval import Check
    from .plan import Plan
    from .policy import Policy

key_app = typer.Typer(no_args_is_help=True, help="Ed25519 keys for signing plan approvals.")


@key_app.command("generate")
def generate(out: Path = typer.Option(..., "--out", help="private key file (written 0600); the public key goes "
                                      "to OUT.pub")) -> None:
    """Make a new signing key: the private key for `sgde approve`, the public one for `--trust`."""
    from .approval import generate_key, load_trusted_keys
    try:
        private, public = generate_key(out)
        (ident,) = load_trusted_keys([public])
    except SgdeError as exc:
        fail(exc)
    emit({"private_key": str(private), "public_key": str(public), "key_id": ident})


def verify(plan_path: Path = typer.Argument(..., metavar="PLAN"),
           trust: list[Path] = typer.Option(..., "--trust", help="trusted public key file or directory of *.pub, "
                                            "repeatable"),
           approvals: Optional[Path] = typer.Option(None, "--approvals", help="approval file (default: "
                                                    "PLAN.approval.json)"),
           min_approvals: int = typer.Option(1, "--min-approvals", min=1,
                                             help="valid approvals by distinct keys")) -> None:
    """Check a plan's approvals: print one JSON line per approval saying what does not match; exit 0 when at
    least --min-approvals of them are valid, by trusted keys, for exactly this plan, else 1."""
    from .approval import approval_path, check_approval, load_trusted_keys, read_approvals
    from .plan_io import load_plan
    try:
        plan = load_plan(plan_path)
        trusted = load_trusted_keys(trust)
        path = approvals or approval_path(plan_path)
        found = read_approvals(path).approvals
    except SgdeError as exc:
        fail(exc)
    if not found:
        fail(f"no approval in {path}", code=1)
    checks = [check_approval(plan, a, trusted) for a in found]
    for check in checks:
        emit({"ok": check.ok, **check.model_dump()})
    valid = len({c.key_id for c in checks if c.ok})
    typer.echo(f"{valid} valid approval(s) of {len(checks)}; {min_approvals} needed", err=True)
    raise typer.Exit(0 if valid >= min_approvals else 1)


def approved_for_deployment(plan: Plan, plan_path: Path, policy_name: str, required: bool, trust: Sequence[Path],
                            approvals: Path | None) -> tuple[Policy, list[Check]]:
    """The deployment policy `sgde run` uses and the approval checks it needs: none unless --require-approval or the
    policy's require_approval; then trusted approvals of this very plan, or ApprovalError."""
    from .approval import load_trusted_keys, require_approval
    from .policy import load_policy, trusted_key_paths
    policy = load_policy(policy_name)
    if required and not policy.require_approval:
        policy = policy.model_copy(update={"require_approval": True})
    if not policy.require_approval:
        return policy, []
    trusted = load_trusted_keys(trust or trusted_key_paths(policy))
    checks = require_approval(plan, plan_path, trusted, min_approvals=policy.min_approvals,
                              allow_unreviewed_code=policy.allow_unreviewed_code, approvals=approvals)
    return policy, checks
