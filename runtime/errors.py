"""One error tree for sgde: every failure a user can see is an ``SgdeError``.

Each class documents one failure and carries structured fields (node id,
field, limit, value) so that callers can act on them and so that the JSON
form (`to_dict`) is stable for scripts. Errors are picklable and plain data:
no logging or I/O in constructors.
"""

from __future__ import annotations

from typing import Any


class SgdeError(Exception):
    """Root of every error sgde raises on purpose."""

    #: short machine-readable name, used in JSON output and traces
    type_name = "sgde_error"

    def __init__(self, message: str, *, node: str | None = None, field: str | None = None,
                 limit: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.field = field
        self.limit = limit
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only fields survive pickling
        return (_rebuild, (type(self), self.message, self.node, self.field, self.limit, self.value))

    def __str__(self) -> str:
        where = []
        if self.node is not None:
            where.append(f"node {self.node!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = f"[{', '.join(where)}] " if where else ""
        return prefix + self.message

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type_name, "message": self.message}
        for key in ("node", "field", "limit"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.value is not None:
            out["value"] = self.value
        return out


def _rebuild(cls: type[SgdeError], message: str, node: str | None, field: str | None,
             limit: str | None, value: Any) -> SgdeError:
    return cls(message, node=node, field=field, limit=limit, value=value)


# --- plans and policies -------------------------------------------------------

class PlanError(SgdeError):
    """A plan file is malformed: bad YAML/JSON, a cycle, a dangling input, ..."""
    type_name = "plan_invalid"


class PolicyError(SgdeError):
    """A policy is malformed, unknown, or an override tries to loosen it."""
    type_name = "policy_invalid"


# --- sandbox ------------------------------------------------------------------

class SandboxError(SgdeError):
    """Base of everything that goes wrong running code in a sandbox."""
    type_name = "sandbox_error"


class CompileRefused(SandboxError):
    """The code was refused before it ran (syntax, RestrictedPython rules, imports)."""
    type_name = "compile_refused"


class PolicyViolation(SandboxError):
    """The code tried, at run time, something the policy forbids."""
    type_name = "policy_violation"


class LimitExceeded(SandboxError):
    """A resource limit stopped the code; ``limit`` names which one."""
    type_name = "limit_exceeded"


class TimeoutLimit(LimitExceeded):
    """Wall-clock or CPU time ran out (limit = 'wall_seconds' or 'cpu_seconds')."""
    type_name = "timeout"


class MemoryLimit(LimitExceeded):
    """The code ran out of its memory allowance (limit = 'memory_mb')."""
    type_name = "memory"


class OutputTooLarge(LimitExceeded):
    """The result or the printed output passed the cap (limit = 'output_bytes')."""
    type_name = "output_too_large"


class PidsLimit(LimitExceeded):
    """The code hit the process/thread limit (limit = 'pids')."""
    type_name = "pids"


class NodeRaised(SandboxError):
    """The node's own code raised an exception; ``value`` holds its type name."""
    type_name = "node_raised"


class InvalidOutput(PolicyViolation):
    """run() returned something that is not a JSON object of JSON values (the boundary is JSON-only)."""
    type_name = "invalid_output"


class SandboxCrashed(SandboxError):
    """The sandbox worker or container died for a reason that is not a known limit."""
    type_name = "sandbox_crashed"


class ProtocolViolation(SandboxCrashed):
    """The sandbox said something other than exactly one well-formed reply to the request it was sent
    (an extra frame, a wrong request id, an oversized frame): it was killed and is replaced."""
    type_name = "protocol_violation"


class SandboxUnavailable(SandboxError):
    """The sandbox backend cannot be used here (no daemon, no image, missing extra)."""
    type_name = "sandbox_unavailable"


class WallMissing(SandboxUnavailable):
    """A policy requires an isolation wall this host does not have (``value`` lists the missing walls)."""
    type_name = "wall_missing"


# --- students and execution ----------------------------------------------------

class ModelError(SgdeError):
    """A student model is missing, corrupt, or cannot be loaded."""
    type_name = "model_error"


class OutputParseError(SgdeError):
    """An llm node's text did not match its output parser."""
    type_name = "output_parse_error"


class NodeFailed(SgdeError):
    """A node failed while the plan ran; ``cause`` holds the underlying error."""
    type_name = "node_failed"

    def __init__(self, message: str, *, node: str | None = None, cause: dict[str, Any] | None = None,
                 **kw: Any) -> None:
        super().__init__(message, node=node, **kw)
        self.cause = cause

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_node_failed, (self.message, self.node, self.cause))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.cause is not None:
            out["cause"] = self.cause
        return out


def _rebuild_node_failed(message: str, node: str | None, cause: dict[str, Any] | None) -> NodeFailed:
    return NodeFailed(message, node=node, cause=cause)


class AggregationError(SgdeError):
    """Consensus samples cannot be aggregated (none, wrong types, a tie under tie: error)."""
    type_name = "aggregation_error"


class ApprovalError(SgdeError):
    """A deployment that requires approval meets a plan that is unsigned, signed by an untrusted key,
    changed after signing, or runs student-written code the policy does not allow."""
    type_name = "approval_refused"


class InputError(SgdeError):
    """A plan input is missing, unknown, or of the wrong type."""
    type_name = "input_invalid"


#: type_name -> class: the sandbox protocol rebuilds a reply's error as its class
ERROR_TYPES: dict[str, type[SgdeError]] = {}


def _register(cls: type[SgdeError]) -> None:
    ERROR_TYPES[cls.type_name] = cls
    for sub in cls.__subclasses__():
        _register(sub)


_register(SgdeError)
