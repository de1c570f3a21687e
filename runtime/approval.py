"""Signed approval of a plan: what a security reviewer signs, and what production checks before it runs.

An approval is a statement — the plan's content hash, every node's hash, every
code node's source hash, the review's finding counts, who, when — signed with
an Ed25519 key. Approvals live beside the plan in ``PLAN.approval.json``
(several: a two-person rule needs two reviewers). Verification names exactly
what does not match: the key, the signature, the node whose code changed.

The runtime refuses an unapproved plan when the deployment policy says
``require_approval`` (or ``sgde run --require-approval``); see `require_approval`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .errors import ApprovalError, InputError
from .plan import Plan, sha256_text

if TYPE_CHECKING:  # pragma: no cover - `cryptography` loads lazily, see _crypto
    from types import ModuleType

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

APPROVAL_FORMAT = 1
#: signed bytes start with this, so an approval signature can never be replayed as any other signature
_DOMAIN = b"sgde-approval-v1\n"
#: walls a node running student-written code must have in force when a deployment requires approval
OS_WALLS = ("unprivileged_uid", "netns", "pidns", "mountns", "capabilities_dropped", "no_new_privs", "seccomp")


def _crypto() -> tuple[ModuleType, ModuleType, type[InvalidSignature]]:
    """`cryptography`, imported when a key is used (a plan that needs no approval never loads it)."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - a core dependency; only a broken install lacks it
        raise ApprovalError("signed approvals need the 'cryptography' package (pip install cryptography)",
                            field="approval") from None
    return ed25519, serialization, InvalidSignature


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Statement(_Frozen):
    """What a reviewer signs. Every field is covered by the signature."""
    sgde_approval: int = APPROVAL_FORMAT
    plan_name: str
    plan_sha256: str = Field(description="Plan.content_hash(): any change to the plan changes it")
    nodes: dict[str, str] = Field(description="node id -> SHA-256 of the node's canonical JSON")
    code_nodes: dict[str, str] = Field(description="code node id -> SHA-256 of its fixed source")
    unreviewed_nodes: tuple[str, ...] = Field((), description="code nodes that run student-written code")
    findings: dict[str, int] = Field(description="the review's finding counts by severity")
    reviewer: str
    note: str = ""
    policy: str = Field(description="the deployment policy the reviewer approved the plan for")
    approved_at: str
    sgde_version: str
    key_id: str


class Approval(_Frozen):
    statement: Statement
    public_key: str = Field(description="the signer's Ed25519 public key, raw 32 bytes, base64")
    signature: str = Field(description="Ed25519 signature over the canonical statement, base64")


class ApprovalFile(_Frozen):
    approvals: tuple[Approval, ...] = ()


class Check(_Frozen):
    """One approval, verified against a plan and a set of trusted keys."""
    reviewer: str
    key_id: str
    plan_sha256: str = Field(description="the plan this check was made against")
    trusted: bool
    signature_valid: bool
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.trusted and self.signature_valid and not self.problems


# --- canonical forms -----------------------------------------------------------------

def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII: one byte string per value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def node_hashes(plan: Plan) -> dict[str, str]:
    return {node.id: hashlib.sha256(canonical_json(node.model_dump(mode="json", exclude_none=True))).hexdigest()
            for node in plan.nodes}


def code_hashes(plan: Plan) -> dict[str, str]:
    return {n.id: n.sha256 or sha256_text(n.source or "") for n in plan.code_nodes() if n.source}


def unreviewed_nodes(plan: Plan) -> tuple[str, ...]:
    return tuple(n.id for n in plan.code_nodes() if n.source_from is not None)


def approval_path(plan_path: Path) -> Path:
    return plan_path.with_name(plan_path.name + ".approval.json")


def key_id(raw_public: bytes) -> str:
    return "ed25519:" + hashlib.sha256(raw_public).hexdigest()[:16]


# --- keys ----------------------------------------------------------------------------

def generate_key(out: Path) -> tuple[Path, Path]:
    """A new Ed25519 key: the private key at ``out`` (mode 0600, never overwritten), the public one at ``out.pub``."""
    ed25519, serialization, _ = _crypto()
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    pub_path = out.with_name(out.name + ".pub")
    for path in (out, pub_path):
        if path.exists():
            raise InputError(f"{path} exists; a key is never overwritten", field="out")
    try:  # created 0600 from the first byte: no window in which another user can read it
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror}", field="out") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(out, 0o600)  # whatever the umask did
    pub_path.write_bytes(public + b" sgde-approval\n")
    return out, pub_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    ed25519, serialization, _ = _crypto()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read key {path}: {exc.strerror}", field="key") from None
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise InputError(f"key {path} is readable by others (mode {path.stat().st_mode & 0o777:o}); "
                         "chmod 600 it", field="key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path} is not an unencrypted PEM private key: {exc}", field="key") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise InputError(f"{path} is not an Ed25519 key", field="key")
    private: Ed25519PrivateKey = key  # checked just above (the module from _crypto() is untyped to mypy)
    return private


def load_trusted_keys(paths: Iterable[Path | str]) -> dict[str, bytes]:
    """key id -> raw public key, from files (PEM, or OpenSSH ``ssh-ed25519`` lines) or directories of ``*.pub``."""
    ed25519, serialization, _ = _crypto()
    keys: dict[str, bytes] = {}
    for given in paths:
        path = Path(given)
        files = sorted(path.glob("*.pub")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise InputError(f"no *.pub key in {path}", field="trust")
        for file in files:
            try:
                text = file.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read trusted key {file}: {exc}", field="trust") from None
            blobs = [m.group(0).encode() for m in re.finditer(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----",
                                                             text, re.S)]
            blobs += [line.strip().encode() for line in text.splitlines() if line.strip().startswith("ssh-")]
            if not blobs:
                raise InputError(f"{file} holds no public key (PEM or ssh-ed25519)", field="trust")
            for blob in blobs:
                try:
                    key = serialization.load_pem_public_key(blob) if blob.startswith(b"-----") \
                        else serialization.load_ssh_public_key(blob)
                except (ValueError, TypeError, serialization.UnsupportedAlgorithm) as exc:
                    raise InputError(f"{file}: not a public key: {exc}", field="trust") from None
                if not isinstance(key, ed25519.Ed25519PublicKey):
                    raise InputError(f"{file}: only Ed25519 keys are trusted", field="trust")
                raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                keys[key_id(raw)] = raw
    return keys


# --- signing and verifying -----------------------------------------------------------

def sign(plan: Plan, key_path: Path, *, reviewer: str, findings: dict[str, int], policy: str,
         note: str = "", now: datetime | None = None) -> Approval:
    _, serialization, _ = _crypto()
    if not reviewer.strip():
        raise InputError("--reviewer must name the person who approves", field="reviewer")
    private = load_private_key(key_path)
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    statement = Statement(
        plan_name=plan.name, plan_sha256=plan.content_hash(), nodes=node_hashes(plan), code_nodes=code_hashes(plan),
        unreviewed_nodes=unreviewed_nodes(plan), findings=dict(findings), reviewer=reviewer, note=note,
        policy=policy, approved_at=(now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        sgde_version=__version__, key_id=key_id(raw_public))
    signature = private.sign(_DOMAIN + canonical_json(statement.model_dump(mode="json")))
    return Approval(statement=statement, public_key=base64.b64encode(raw_public).decode(),
                    signature=base64.b64encode(signature).decode())


def read_approvals(path: Path) -> ApprovalFile:
    if not path.exists():
        return ApprovalFile()
    try:
        return ApprovalFile.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise ApprovalError(f"{path} is not an approval file: {detail}", field="approval") from None


def add_approval(path: Path, approval: Approval) -> ApprovalFile:
    """Append (a second reviewer adds to the first); a reviewer's earlier approval with the same key is replaced."""
    current = read_approvals(path)
    kept = tuple(a for a in current.approvals if a.statement.key_id != approval.statement.key_id
                 or a.statement.plan_sha256 != approval.statement.plan_sha256)
    updated = ApprovalFile(approvals=kept + (approval,))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(updated.model_dump(mode="json"), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return updated


def check_approval(plan: Plan, approval: Approval, trusted: dict[str, bytes]) -> Check:
    """Verify one approval: key trusted, signature valid, and the plan exactly what was signed."""
    ed25519, _, invalid_signature = _crypto()
    statement = approval.statement
    try:
        raw = base64.b64decode(approval.public_key, validate=True)
        public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raw, public = b"", None
    valid = False
    if public is not None and key_id(raw) == statement.key_id:
        try:
            public.verify(base64.b64decode(approval.signature, validate=True),
                          _DOMAIN + canonical_json(statement.model_dump(mode="json")))
            valid = True
        except (ValueError, invalid_signature):
            pass
    trusted_key = bool(raw) and trusted.get(key_id(raw)) == raw
    problems: list[str] = []
    if not valid:
        problems.append("the signature does not verify: the approval was altered or not made with this key")
    if raw and not trusted_key:
        problems.append(f"signed by {key_id(raw)}, which is not among the trusted keys")
    problems += plan_differences(plan, statement)
    return Check(reviewer=statement.reviewer, key_id=statement.key_id, plan_sha256=plan.content_hash(),
                 trusted=trusted_key, signature_valid=valid, problems=tuple(problems))


def plan_differences(plan: Plan, statement: Statement) -> list[str]:
    """What changed since the statement was signed, node by node."""
    if statement.plan_sha256 == plan.content_hash():
        return []
    out: list[str] = []
    signed_code, now_code = statement.code_nodes, code_hashes(plan)
    for node_id in sorted(set(signed_code) | set(now_code)):
        if node_id not in now_code:
            out.append(f"node {node_id!r}: approved code node is gone")
        elif node_id not in signed_code:
            out.append(f"node {node_id!r}: code that nobody approved (sha256 {now_code[node_id][:16]})")
        elif signed_code[node_id] != now_code[node_id]:
            out.append(f"node {node_id!r}: code changed after approval (approved sha256 {signed_code[node_id][:16]}, "
                       f"now {now_code[node_id][:16]})")
    signed_nodes, now_nodes = statement.nodes, node_hashes(plan)
    for node_id in sorted(set(signed_nodes) | set(now_nodes)):
        if node_id in signed_code or node_id in now_code:
            continue  # said above, in the reviewer's words
        if node_id not in now_nodes:
            out.append(f"node {node_id!r}: removed after approval")
        elif node_id not in signed_nodes:
            out.append(f"node {node_id!r}: added after approval")
        elif signed_nodes[node_id] != now_nodes[node_id]:
            out.append(f"node {node_id!r}: changed after approval (prompt, template, reads or settings)")
    if not out:
        out.append("the plan changed after approval outside its nodes (name, inputs, output or provenance)")
    return out


def first_node(problem: str) -> str | None:
    match = re.match(r"node '([^']+)'", problem)
    return match.group(1) if match else None


def require_approval(plan: Plan, plan_path: Path, trusted: dict[str, bytes], *, min_approvals: int = 1,
                     allow_unreviewed_code: bool = False, approvals: Path | None = None) -> list[Check]:
    """Raise ApprovalError (naming the node where one is to blame) unless enough trusted approvals match the plan."""
    if not trusted:
        raise ApprovalError("approval is required but no trusted key was given (--trust or the policy's "
                            "trusted_keys)", field="trust")
    for node_id in unreviewed_nodes(plan):
        if not allow_unreviewed_code:
            raise ApprovalError("runs student-written code (source_from) that no one can review; the deployment "
                                "policy must say allow_unreviewed_code: true to run it", node=node_id,
                                field="source_from")
    path = approvals or approval_path(plan_path)
    found = read_approvals(path).approvals
    if not found:
        raise ApprovalError(f"the plan is not approved: no approval in {path} (sgde approve)", field="approval")
    checks = [check_approval(plan, a, trusted) for a in found]
    good = [c for c in checks if c.ok]
    distinct = {c.key_id for c in good}
    if len(distinct) >= min_approvals:
        return good
    problems = [p for c in checks for p in c.problems]
    node = next((first_node(p) for p in problems if first_node(p)), None)
    detail = "; ".join(f"{c.reviewer} ({c.key_id}): {', '.join(c.problems)}" for c in checks if not c.ok)
    raise ApprovalError(f"the plan needs {min_approvals} valid approval(s) by trusted keys, has {len(distinct)}"
                        + (f": {detail}" if detail else ""), node=node, field="approval",
                        value=[c.model_dump() for c in checks])
