"""Logging for services: plain text for people, or one JSON object per line for log pipelines.

The library only logs (module loggers under ``sgde``); an application chooses the
format with `configure_logging` (the CLI: ``sgde --log-format json``). Extra fields
given with ``extra=`` (run_id, plan_sha256, node, ...) become JSON keys.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Literal, TextIO

from .trace import utc_timestamp

#: attributes every LogRecord has; anything else on a record came from ``extra=``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, message, the caller's extra fields, exc when any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record), "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return utc_timestamp(record.created)


def configure_logging(fmt: Literal["text", "json"] = "text", level: str | int = "WARNING",
                      stream: TextIO | None = None) -> logging.Handler:
    """Send the ``sgde`` loggers to ``stream`` (stderr) in the given format; returns the handler it installed
    (replacing one it installed before)."""
    logger = logging.getLogger("sgde")
    for old in [h for h in logger.handlers if getattr(h, "_sgde", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._sgde = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    logger.propagate = False
    return handler
