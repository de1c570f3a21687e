"""The Anthropic API as a teacher: one request in, one tool call's input out.

One job: turn a ``TeacherRequest`` into a Messages API call and its answer into a
``TeacherReply``. Structured output goes through a single forced tool ("respond")
whose input schema is the request's schema; retries and back-off are left to the
SDK (it honours ``retry-after``); every SDK failure leaves here as a ``TeacherError``.
Validating the answer against its pydantic model is the caller's job.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from typing import Any

import anthropic

from ..errors import TeacherProtocolError, TeacherUnavailable
from .base import Teacher, TeacherReply, TeacherRequest, TeacherUsage

log = logging.getLogger(__name__)

TOOL_NAME = "respond"

#: USD per million tokens (input, output), matched by model-name prefix; longest prefix wins.
PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4": (15.0, 75.0),
    "claude-opus-4-5": (5.0, 25.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "claude-haiku-4": (1.0, 5.0),
}
# Prompt-cache pricing relative to the input price.
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1

# Statuses the SDK retries (408, 409, 429, 5xx incl. 529 overloaded): still failing
# after the retries means the service is unavailable, not that we asked wrongly.
_RETRIED_STATUSES = frozenset({408, 409, 429})

_unpriced_logged: set[str] = set()


def price_for(model: str) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for ``model``, or None when it is not in the table."""
    matches = [prefix for prefix in PRICES if model.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else None


class AnthropicTeacher(Teacher):
    """A teacher backed by Anthropic's Messages API (the real ``anthropic`` SDK)."""

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 max_retries: int = 4, timeout_s: float = 120.0, max_tokens: int = 8192,
                 prices: tuple[float, float] | None = None) -> None:
        self.model = model
        self.spec = f"anthropic:{model}"
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self.prices = prices if prices is not None else price_for(model)
        self.prices_known = self.prices is not None
        if self.prices is None and model not in _unpriced_logged:
            # logging, not warnings.warn: a warning is an error under the test suite's -W error
            _unpriced_logged.add(model)
            log.warning("no price known for Anthropic model %r: its calls are counted as $0 "
                        "(pass prices=(input, output) USD per million tokens)", model)

        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise TeacherUnavailable(
                f"teacher {self.spec}: no Anthropic API key; set ANTHROPIC_API_KEY or pass api_key",
                field="api_key")

        # Attempts are counted per thread by a request hook on our own HTTP client: the SDK
        # retries inside one call and reports nothing about it on failure, while the hook
        # sees every request it sends (timed-out ones included). The SDK calls hooks in the
        # calling thread, so a thread-local counter keeps concurrent asks apart.
        self._local = threading.local()
        http_client = anthropic.DefaultHttpxClient(event_hooks={"request": [self._count_attempt]})
        try:
            self._client = anthropic.Anthropic(
                api_key=key,
                base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
                max_retries=max_retries,
                timeout=timeout_s,
                http_client=http_client,
            )
        except Exception as exc:  # the SDK rejects bad settings with plain exceptions
            http_client.close()
            raise TeacherUnavailable(f"teacher {self.spec}: cannot set up the Anthropic client: {exc}",
                                     field="base_url") from None
        self._closed = False

    def _count_attempt(self, request: Any) -> None:
        self._local.attempts = getattr(self._local, "attempts", 0) + 1

    # --- asking -------------------------------------------------------------------------

    def _params(self, request: TeacherRequest) -> dict[str, Any]:
        tool = {
            "name": TOOL_NAME,
            "description": "Give your whole answer by calling this tool once; its input is the answer.",
            # the schema goes as-is ($defs/$ref included): the API resolves local refs
            "input_schema": request.response_schema,
            # tools come first in the cache prefix, so caching them and the system prompt
            # makes every call after the first of a kind read the static part from cache
            "cache_control": {"type": "ephemeral"},
        }
        payload = json.dumps(request.payload, indent=1, sort_keys=True, ensure_ascii=False)
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": [{"type": "text", "text": request.instructions, "cache_control": {"type": "ephemeral"}}],
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
            "messages": [{"role": "user", "content": [{"type": "text", "text": payload}]}],
        }

    def ask(self, request: TeacherRequest) -> TeacherReply:
        if self._closed:
            raise TeacherUnavailable(f"teacher {self.spec}: asked after close()")
        params = self._params(request)
        self._local.attempts = 0
        started = time.monotonic()
        try:
            with warnings.catch_warnings():
                # the SDK warns on model names it lists as deprecated; a deprecated model still answers,
                # and under -W error the warning would escape as an exception
                warnings.simplefilter("ignore", DeprecationWarning)
                message = self._client.messages.create(**params)
        except anthropic.APIStatusError as exc:
            raise self._status_error(exc) from None
        except anthropic.APITimeoutError:  # before APIConnectionError: it is a subclass
            raise TeacherUnavailable(
                f"teacher {self.spec}: the request timed out after {self._attempts()} attempts "
                f"({self._client.timeout}s each)", limit="retries") from None
        except anthropic.APIConnectionError as exc:
            raise TeacherUnavailable(
                f"teacher {self.spec}: cannot reach {self._client.base_url} after {self._attempts()} "
                f"attempts: {exc.__cause__ or exc}", limit="retries") from None
        except anthropic.AnthropicError as exc:  # anything else the SDK raises on purpose
            raise TeacherProtocolError(f"teacher {self.spec}: the Anthropic SDK failed: {exc}") from None
        except RecursionError:  # the SDK parses the HTTP body with json, which recurses once per level
            raise TeacherProtocolError(f"teacher {self.spec}: the API's reply is nested too deeply to parse",
                                       limit="max_depth") from None
        usage = self._usage(message, seconds=time.monotonic() - started)
        return TeacherReply(data=self._tool_input(message, usage), usage=usage)

    def _attempts(self) -> int:
        return max(1, getattr(self._local, "attempts", 0))

    def _status_error(self, exc: anthropic.APIStatusError) -> Exception:
        status = exc.status_code
        error_type, detail = _error_detail(exc)
        what = f"HTTP {status}" + (f" {error_type}" if error_type else "")
        attempts = self._attempts()
        if status in _RETRIED_STATUSES or status >= 500:
            return TeacherUnavailable(
                f"teacher {self.spec}: {what} after {attempts} attempt{'s' if attempts != 1 else ''}: {detail}",
                limit="retries", value=status)
        return TeacherProtocolError(f"teacher {self.spec}: the API refused the request ({what}): {detail}",
                                    value=status)

    def _usage(self, message: Any, *, seconds: float) -> TeacherUsage:
        u = message.usage
        tokens_in = u.input_tokens or 0
        tokens_out = u.output_tokens or 0
        # both are None when the request had no cache breakpoints (and on older servers)
        cache_read = getattr(u, "cache_read_input_tokens", None) or 0
        cache_write = getattr(u, "cache_creation_input_tokens", None) or 0
        usd = 0.0
        if self.prices is not None:
            price_in, price_out = self.prices
            usd = (tokens_in * price_in + tokens_out * price_out
                   + cache_write * price_in * CACHE_WRITE_FACTOR
                   + cache_read * price_in * CACHE_READ_FACTOR) / 1_000_000
        return TeacherUsage(input_tokens=tokens_in, output_tokens=tokens_out, cache_read_tokens=cache_read,
                            cache_write_tokens=cache_write, usd=usd, seconds=seconds,
                            attempts=self._attempts())

    def _tool_input(self, message: Any, usage: TeacherUsage) -> dict[str, Any]:
        blocks = list(message.content or [])
        calls = [b for b in blocks if getattr(b, "type", None) == "tool_use" and getattr(b, "name", None) == TOOL_NAME]
        # the errors carry the usage so that budgets can still charge for a wasted call
        spent = usage.model_dump()
        if message.stop_reason == "max_tokens":
            raise TeacherProtocolError(
                f"teacher {self.spec}: the reply was cut off at max_tokens={self.max_tokens} "
                "(raise max_tokens or ask for less)", limit="max_tokens", value=spent)
        if not calls:
            texts = [b.text for b in blocks if getattr(b, "type", None) == "text" and getattr(b, "text", None)]
            first = texts[0][:200] if texts else "(no text)"
            kinds = ", ".join(str(getattr(b, "type", "?")) for b in blocks) or "nothing"
            raise TeacherProtocolError(
                f"teacher {self.spec}: no {TOOL_NAME!r} tool call in the reply (stop_reason="
                f"{message.stop_reason!r}, blocks: {kinds}); it said: {first!r}", value=spent)
        data = calls[0].input
        if not isinstance(data, dict):
            raise TeacherProtocolError(
                f"teacher {self.spec}: the {TOOL_NAME!r} tool input is a {type(data).__name__}, "
                f"not an object: {str(data)[:200]!r}", value=spent)
        return data

    def close(self) -> None:
        if not getattr(self, "_closed", True):
            self._closed = True
            self._client.close()


def _error_detail(exc: anthropic.APIStatusError) -> tuple[str | None, str]:
    """The error type and message from an API error body ({"type": "error", "error": {...}})."""
    body = exc.body
    err = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(err, dict):
        message = err.get("message")
        return (err.get("type") if isinstance(err.get("type"), str) else None,
                str(message) if message is not None else str(exc))
    return None, (str(body)[:500] if body else str(exc))
