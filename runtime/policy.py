"""Sandbox policies: resource and security limits for code nodes.

A deployment runs under one policy (``default`` unless told otherwise). A
plan's node may name another policy or override fields, but only to tighten
the deployment's policy: `tighten` raises `PolicyError` on any loosening.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import SkipJsonSchema

from .errors import PolicyError
from .yaml_load import load_yaml

Backend = Literal["restricted", "docker"]

#: modules a policy may ever allow; everything else (os, sys, io, ...) is unknowable to node code
IMPORTABLE_MODULES = frozenset({
    "math", "cmath", "fractions", "decimal", "statistics", "re", "itertools", "functools",
    "datetime", "json", "collections", "string", "heapq", "bisect", "operator", "random",
})
#: walls a policy may require of the host (`sgde sandbox doctor` says which are in force)
WALLS = ("language_guard", "unprivileged_uid", "userns", "mountns", "netns", "ipcns", "utsns", "pidns",
         "empty_root", "capabilities_dropped", "not_dumpable", "no_new_privs", "landlock", "seccomp",
         "empty_environment", "container")
Wall = Literal["language_guard", "unprivileged_uid", "userns", "mountns", "netns", "ipcns", "utsns", "pidns",
               "empty_root", "capabilities_dropped", "not_dumpable", "no_new_privs", "landlock", "seccomp",
               "empty_environment", "container"]


class Policy(BaseModel):
    """Limits a code node runs under. Every field is tightened by lowering it,
    except booleans/enums whose safe side is documented on the field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="policy name, for errors and traces")
    backend: Backend = Field("restricted", description="sandbox backend: restricted (RestrictedPython in a worker "
                             "process) or docker")
    language_guard: Literal["restricted", "none"] = Field(
        "restricted", description="RestrictedPython rules inside the sandbox; 'none' (docker only) runs plain Python "
        "with the import allow-list, leaving the container as the only wall")
    cpu_seconds: float = Field(gt=0, le=3600, description="CPU seconds per call")
    wall_seconds: float = Field(gt=0, le=3600, description="wall-clock seconds per call; the worker is killed and "
                                "replaced past it")
    memory_mb: int = Field(ge=32, le=65536, description="address space (restricted) or memory+swap (docker), MiB")
    output_bytes: int = Field(ge=64, le=1 << 30,
                              description="cap on the JSON result and on captured print output, bytes")
    allowed_imports: tuple[str, ...] = Field(description="modules node code may import (facades carrying only "
                                             "public functions)")
    network: Literal["none"] = Field("none", description="docker: network mode; only 'none' is supported")
    pids: int = Field(16, ge=1, le=4096, description="docker: pids limit of the container")
    read_only_root: bool = Field(True, description="docker: read-only root filesystem (True is the safe side)")
    tmpfs_mb: int = Field(16, ge=0, le=4096, description="docker: size of the /tmp scratch tmpfs, MiB")
    open_files: int = Field(64, ge=8, le=65536, description="docker: RLIMIT_NOFILE")
    file_size_mb: int = Field(1, ge=0, le=65536, description="docker: RLIMIT_FSIZE, MiB")
    cpus: float = Field(1.0, gt=0, le=64, description="docker: CPU share (cores)")
    oci_runtime: str | None = Field(None, description="docker: OCI runtime to use, e.g. runsc")
    require_oci_runtime: bool = Field(False, description="docker: fail instead of running without oci_runtime")
    isolation: Literal["per_call", "per_node"] = Field(
        "per_call", description="per_call: every call in a process no earlier call ran in; per_node: reviewed "
        "(fixed, hashed) code may reuse one warm process for all calls of a node (unreviewed code never does)")
    require: tuple[Wall, ...] = Field((), description="walls the host must have in force, or the node is refused "
                                      "(see `sgde sandbox doctor`)")
    # deployment only: read from the policy a deployment runs under (`sgde run --policy`), ignored in a node's
    require_approval: bool = Field(False, description="deployment: run only plans signed by trusted_keys "
                                   "(`sgde approve`); anything else is refused before it runs")
    trusted_keys: tuple[str, ...] = Field((), description="deployment: public key files or directories of *.pub "
                                          "(relative to the policy file) whose approvals count")
    min_approvals: int = Field(1, ge=1, le=16, description="deployment: approvals by distinct trusted keys needed "
                               "(2 for a two-person rule)")
    allow_unreviewed_code: bool = Field(False, description="deployment: with require_approval, plans whose code "
                                        "nodes run student-written code (source_from) may run, and those nodes "
                                        "then must have the OS walls in force")
    #: where the policy was loaded from, to resolve trusted_keys; not a policy setting
    source_dir: SkipJsonSchema[str | None] = Field(None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _check(self) -> "Policy":
        if self.language_guard == "none" and self.backend != "docker":
            raise ValueError("language_guard: 'none' is only allowed with backend: docker (the container is then "
                             "the only wall)")
        unknown = sorted(set(self.allowed_imports) - IMPORTABLE_MODULES)
        if unknown and self.language_guard == "restricted":
            raise ValueError(f"allowed_imports: {unknown} may not be allowed (importable: "
                             f"{sorted(IMPORTABLE_MODULES)}; other modules only with backend: docker and "
                             "language_guard: none)")
        bad_names = [m for m in self.allowed_imports if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", m)]
        if bad_names:
            raise ValueError(f"allowed_imports: {bad_names} are not top-level module names")
        if self.wall_seconds < self.cpu_seconds:
            raise ValueError("wall_seconds must be >= cpu_seconds")
        if self.require_oci_runtime and not self.oci_runtime:
            raise ValueError("require_oci_runtime needs oci_runtime")
        return self


class PolicyOverride(BaseModel):
    """A node's partial policy: every field optional, every set field must tighten."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend | None = None
    language_guard: Literal["restricted", "none"] | None = None
    cpu_seconds: float | None = Field(None, gt=0)
    wall_seconds: float | None = Field(None, gt=0)
    memory_mb: int | None = Field(None, ge=32)
    output_bytes: int | None = Field(None, ge=64)
    allowed_imports: tuple[str, ...] | None = None
    pids: int | None = Field(None, ge=1)
    read_only_root: bool | None = None
    tmpfs_mb: int | None = Field(None, ge=0)
    open_files: int | None = Field(None, ge=8)
    file_size_mb: int | None = Field(None, ge=0)
    cpus: float | None = Field(None, gt=0)
    oci_runtime: str | None = None
    require_oci_runtime: bool | None = None
    # valid in a plan, but left out of the JSON schema the teacher edits plans with: a compile never
    # needs them (and recorded compiles replay against that schema)
    isolation: SkipJsonSchema[Literal["per_call", "per_node"] | None] = None
    require: SkipJsonSchema[tuple[Wall, ...] | None] = None


#: numeric fields where smaller is tighter
_LOWER_IS_TIGHTER = ("cpu_seconds", "wall_seconds", "memory_mb", "output_bytes", "pids", "tmpfs_mb",
                     "open_files", "file_size_mb", "cpus")


def looser_fields(base: Policy, candidate: Policy) -> list[str]:
    """Fields where ``candidate`` is looser than ``base`` (empty list: at least as tight)."""
    bad = [f for f in _LOWER_IS_TIGHTER if getattr(candidate, f) > getattr(base, f)]
    if not set(candidate.allowed_imports) <= set(base.allowed_imports):
        bad.append("allowed_imports")
    if base.read_only_root and not candidate.read_only_root:
        bad.append("read_only_root")
    # docker is the stronger wall (kernel namespaces); moving back to restricted loosens
    if base.backend == "docker" and candidate.backend != "docker":
        bad.append("backend")
    if base.language_guard == "restricted" and candidate.language_guard != "restricted":
        bad.append("language_guard")
    if base.oci_runtime and candidate.oci_runtime != base.oci_runtime:
        bad.append("oci_runtime")
    if base.require_oci_runtime and not candidate.require_oci_runtime:
        bad.append("require_oci_runtime")
    if base.isolation == "per_call" and candidate.isolation != "per_call":
        bad.append("isolation")
    if not set(base.require) <= set(candidate.require):
        bad.append("require")
    return bad


def tighten(base: Policy, override: PolicyOverride | Policy | None, *, node: str | None = None) -> Policy:
    """Apply a node's override (or a whole named policy) to ``base``; refuse any loosening."""
    if override is None:
        return base
    if isinstance(override, Policy):
        candidate = override
    else:
        changes = override.model_dump(exclude_none=True)
        try:
            candidate = Policy.model_validate({**base.model_dump(), **changes, "name": f"{base.name}+override"})
        except ValidationError as exc:
            raise PolicyError(_first_error(exc), node=node, field="policy_override") from None
    bad = looser_fields(base, candidate)
    if bad:
        detail = ", ".join(f"{f}: {getattr(base, f)!r} -> {getattr(candidate, f)!r}" for f in bad)
        raise PolicyError(f"policy may only be tightened, not loosened ({detail}) relative to deployment policy "
                          f"{base.name!r}", node=node, field="policy" if isinstance(override, Policy) else
                          f"policy_override.{bad[0]}")
    return candidate


def builtin_policy_names() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("sgde.policies").iterdir() if p.name.endswith(".yaml"))


def load_policy(name_or_path: str | Path) -> Policy:
    """Load a shipped policy by name (``default``, ``strict``) or a policy YAML file by path."""
    text: str
    source = str(name_or_path)
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise PolicyError(f"policy file not found: {source}", field="policy")
        text = path.read_text(encoding="utf-8")
    else:
        ref = resources.files("sgde.policies").joinpath(f"{source}.yaml")
        if not ref.is_file():
            raise PolicyError(f"unknown policy {source!r}; shipped policies: {builtin_policy_names()}", field="policy")
        text = ref.read_text(encoding="utf-8")
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy {source!r} is not valid YAML: {exc}", field="policy") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy {source!r} must be a mapping", field="policy")
    if "source_dir" in data:
        raise PolicyError(f"policy {source!r}: source_dir is not a policy field", field="policy")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"policy {source!r}: {_first_error(exc)}", field="policy") from None
    return policy.model_copy(update={"source_dir": str(path.parent.resolve())}) if path.is_file() else policy


def trusted_key_paths(policy: Policy) -> list[Path]:
    """The policy's trusted_keys, relative paths taken from the policy file's directory."""
    base = Path(policy.source_dir) if policy.source_dir else Path.cwd()
    return [Path(p) if Path(p).is_absolute() else base / p for p in policy.trusted_keys]


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]
