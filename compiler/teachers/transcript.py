"""Transcripts: every teacher request and reply of a compile, one JSON line per call.

`TranscriptTeacher` serves recorded calls first — each request must equal the
recorded one, or the difference is shown — and then, if it has a live teacher,
asks it and appends the new call. That one mechanism is `replay:` (no live
teacher) and `--resume` (the run dir's transcript, then the live teacher), so
a resumed compile repeats no teacher call.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from ..errors import ReplayMismatch, TeacherProtocolError
from .base import Teacher, TeacherReply, TeacherRequest


def load_transcript(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TeacherProtocolError(f"cannot read transcript {path}: {exc.strerror}", field="transcript") from None
    calls = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            call = json.loads(line)
            TeacherRequest.model_validate(call["request"])
            TeacherReply.model_validate(call["reply"])
        except (ValueError, KeyError, TypeError) as exc:
            # a compile killed mid-write leaves a torn last line: drop it, it was never answered
            if number == len(lines):
                break
            raise TeacherProtocolError(f"transcript {path} line {number} is not a recorded call: {exc}",
                                       field="transcript") from None
        calls.append(call)
    return calls


def request_diff(recorded: dict[str, Any], asked: TeacherRequest, limit: int = 4000) -> str:
    old = TeacherRequest.model_validate(recorded).canonical().splitlines()
    new = asked.canonical().splitlines()
    diff = "\n".join(difflib.unified_diff(old, new, "recorded", "asked", n=2, lineterm=""))
    return diff if len(diff) <= limit else diff[:limit] + f"\n... ({len(diff) - limit} more characters)"


class TranscriptTeacher(Teacher):
    def __init__(self, recorded: list[dict[str, Any]], *, live: Teacher | None = None,
                 record_to: str | Path | None = None, spec: str | None = None) -> None:
        self.recorded = recorded
        self.live = live
        self.position = 0
        self.spec = spec or (live.spec if live else (recorded[0].get("teacher", "replay") if recorded else "replay"))
        self._out = None
        if record_to is not None:
            path = Path(record_to)
            path.parent.mkdir(parents=True, exist_ok=True)
            # rewrite what is kept (a torn last line is gone), then append new calls
            with open(path, "w", encoding="utf-8") as handle:
                for call in recorded:
                    handle.write(json.dumps(call, ensure_ascii=False) + "\n")
            self._out = open(path, "a", encoding="utf-8")

    @property
    def prices_known(self) -> bool | None:  # type: ignore[override]
        """A replay's cost is what was recorded; new calls cost what the live teacher says."""
        return self.live.prices_known if self.live is not None else True

    @property
    def replayed(self) -> int:
        return min(self.position, len(self.recorded))

    def ask(self, request: TeacherRequest) -> TeacherReply:
        index = self.position
        if index < len(self.recorded):
            call = self.recorded[index]
            if TeacherRequest.model_validate(call["request"]).canonical() != request.canonical():
                raise ReplayMismatch(f"call {index + 1}: the request differs from the recorded one "
                                     "(the plan, the examples, the student or its llama.cpp build or thread count "
                                     "changed):\n"
                                     + request_diff(call["request"], request), value=index + 1)
            self.position += 1
            return TeacherReply.model_validate(call["reply"])
        if self.live is None:
            raise ReplayMismatch(f"call {index + 1}: the transcript ends after {len(self.recorded)} calls",
                                 value=index + 1)
        reply = self.live.ask(request)
        self.position += 1
        if self._out is not None:
            call = {"call": index + 1, "teacher": self.live.spec, "request": request.model_dump(mode="json"),
                    "reply": reply.model_dump(mode="json")}
            self._out.write(json.dumps(call, ensure_ascii=False) + "\n")
            self._out.flush()
            os.fsync(self._out.fileno())  # a kill after this line must not repeat the call
        return reply

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.live is not None:
            self.live.close()
