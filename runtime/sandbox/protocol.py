"""The host's side of the runner protocol: what it sends, and how it reads what comes back.

Every call is an envelope (``{"op", "id", "key"}``, small, parsed by the
zygote) followed by a payload (the call's inputs, and its source when the code
is not reviewed: opaque to the zygote, read only by the call's process). The
id is a fresh random token per request; the reply must carry it.

A reply frame is hostile input: it is decoded with limits on size, nesting
depth, integer digits, strict UTF-8 and finite numbers, and its shape is
checked field by field. Anything that does not pass is an `InvalidOutput`
(bad content) or a `ProtocolViolation` (wrong id, wrong shape, extra frames),
never an exception from deep inside json.
"""

from __future__ import annotations

import json
import math
import secrets
import unicodedata
from typing import Any

from .. import strict_json
from ..errors import ERROR_TYPES, InvalidOutput, ProtocolViolation, SandboxCrashed, SandboxError
from .runner.framing import HEADER

#: requests larger than this are refused before they are sent (the runner's receive buffer)
MAX_REQUEST_BYTES = 4 << 20
#: deeper than the runner ever sends (its own limit on results is strict_json.MAX_DEPTH levels)
MAX_REPLY_DEPTH = 80
#: error types a runner may report; anything else is a crash
_REPLY_ERROR_TYPES = frozenset({"compile_refused", "policy_violation", "invalid_output", "output_too_large",
                                "memory", "node_raised", "pids", "timeout", "sandbox_crashed"})
_LIMIT_NAMES = frozenset({"cpu_seconds", "wall_seconds", "memory_mb", "output_bytes", "pids", "seccomp"})
_MESSAGE_CHARS = 2000


def new_request_id() -> str:
    return secrets.token_hex(12)


def reply_cap(output_bytes: int) -> int:
    """Largest reply frame a runner may send under a policy: the result (output_bytes once written as ASCII
    JSON), the captured print output (output_bytes characters, at most 12 bytes each once escaped) and the
    envelope."""
    return 13 * output_bytes + 65536


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def encode(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii"))


# --- decoding --------------------------------------------------------------------------------

def decode_json(body: bytes, what: str = "the sandbox's reply") -> Any:
    """JSON from a sandbox, or InvalidOutput saying which limit it broke."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidOutput(f"{what} is not UTF-8 (byte {exc.start})") from None
    try:
        # a lone surrogate is a Python string like any other here (the runner escapes it; tests/redteam)
        value = strict_json.loads(text, max_depth=MAX_REPLY_DEPTH, lone_surrogates=True)
    except strict_json.TooDeep:
        raise InvalidOutput(f"{what} is nested too deeply (limit {MAX_REPLY_DEPTH} levels)") from None
    except (ValueError, TypeError, MemoryError) as exc:  # bad syntax, NaN, an integer past Python's limit
        raise InvalidOutput(f"{what} is not valid JSON: {str(exc)[:200]}") from None
    return value


def clean_text(text: str, limit: int = _MESSAGE_CHARS) -> str:
    """Text a sandbox wrote, safe to print on a terminal: control and bidi characters escaped, capped."""
    out = []
    for char in text[:limit]:
        if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co"):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def check_reply(reply: Any, request_id: str, *, prepare: bool = False, cpu_ceiling: float = 3600.0) -> dict[str, Any]:
    """The reply's shape, field by field with exact types; a ProtocolViolation when it is not one."""
    if type(reply) is not dict or type(reply.get("id")) is not str or type(reply.get("ok")) is not bool:
        raise ProtocolViolation("the sandbox sent a reply without an id or status")
    if reply["id"] != request_id:
        raise ProtocolViolation("the sandbox sent a reply to another request (wrong request id)")
    if not reply["ok"]:
        error = reply.get("error")
        if type(error) is not dict or type(error.get("type")) is not str or type(error.get("message")) is not str:
            raise ProtocolViolation("the sandbox sent an error reply without a type and message")
        limit, value = error.get("limit"), error.get("value")
        if limit is not None and type(limit) is not str:
            raise ProtocolViolation("the sandbox sent an error reply with a bad limit")
        if value is not None and not _scalar(value):
            raise ProtocolViolation("the sandbox sent an error reply with a bad value")
        return reply
    if prepare:
        return reply
    if type(reply.get("output")) is not dict or type(reply.get("stdout", "")) is not str \
            or type(reply.get("stdout_truncated", False)) is not bool:
        raise ProtocolViolation("the sandbox sent a result reply of the wrong shape")
    cpu = reply.get("cpu_s")
    if cpu is not None and (type(cpu) not in (int, float) or not 0 <= cpu <= cpu_ceiling):
        raise ProtocolViolation("the sandbox sent a reply with an impossible cpu_s")
    return reply


def _scalar(value: Any) -> bool:
    kind = type(value)
    return kind is bool or kind is str and len(value) <= 1000 or kind is int and abs(value) < 2**63 \
        or kind is float and math.isfinite(value)


def is_not_prepared(reply: dict[str, Any]) -> bool:
    return not reply["ok"] and reply["error"]["type"] == "not_prepared"



def raise_for_reply(reply: dict[str, Any], node: str) -> None:
    """Turn a checked error reply into the typed error it names (a type no runner sends is a crash)."""
    if reply.get("ok"):
        return
    error = reply["error"]
    type_name = error["type"] if error["type"] in _REPLY_ERROR_TYPES else "sandbox_crashed"
    cls: type[SandboxError] = ERROR_TYPES.get(type_name, SandboxCrashed)  # type: ignore[assignment]
    limit = error.get("limit") if error.get("limit") in _LIMIT_NAMES else None
    value = error.get("value")
    if type(value) is str:
        value = clean_text(value, 200)
    raise cls(clean_text(error["message"]), node=node, limit=limit, value=value)
