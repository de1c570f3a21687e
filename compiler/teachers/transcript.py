"""Transcripts: every teacher request and reply of a compile, one JSON line per call.

`TranscriptTeacher` serves recorded calls first — each request must equal the
recorded one, or the difference is shown — and then, if it has a live teacher,
asks it and appends the new call. That one mechanism is `replay:` (no live
teacher) and `--resume` (the run dir's transcript, then the live teacher), so
a resumed compile repeats no teacher call.

Each call written also records the student build its request was made with
(`student_build`: llama.cpp thread count, llama-cpp-python version, llama.cpp
system info), since greedy output, and so every later request, depends on
it. A replay runs the student with the recorded thread count, and when a
request still differs, the error names what differs between the recorded
build and this one. Transcripts recorded before builds were kept replay as
they are.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from sgde.runtime import strict_json

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
            call = strict_json.loads(line)
            TeacherRequest.model_validate(call["request"])
            TeacherReply.model_validate(call["reply"])
        except (ValueError, KeyError, TypeError) as exc:
            # a compile killed mid-write leaves a torn last line: drop it, it was never answered
            if number == len(lines):
                break
            raise TeacherProtocolError(f"transcript {path} line {number} is not a recorded call: {exc}",
                                       field="transcript") from None
        build = call.get("student_build")
        if build is not None and not (isinstance(build, dict) and _threads(build) is not None):
            raise TeacherProtocolError(f"transcript {path} line {number}: student_build must be an object with a "
                                       f"whole n_threads >= 1, got {build!r}", field="transcript")
        calls.append(call)
    return calls


def _threads(build: dict[str, Any]) -> int | None:
    value = build.get("n_threads")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def recorded_build(calls: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The student build the first call that names one was recorded with (None: the transcript predates them)."""
    return next((call["student_build"] for call in calls if call.get("student_build") is not None), None)


def recorded_threads(calls: list[dict[str, Any]]) -> int | None:
    """The thread count a replay of these calls must give its student (None when none was recorded)."""
    build = recorded_build(calls)
    return _threads(build) if build is not None else None


def _system_items(text: Any) -> list[str]:
    return [item.strip() for item in str(text).split("|") if item.strip()]


def budget_difference(recorded: dict[str, Any], current: TeacherRequest) -> str | None:
    """The options to replay with, when a request differs because the compile's limits do (protocol 4 sends
    them); None when the limits match or the requests carry none."""
    old, new = recorded.get("payload", {}).get("budget"), current.payload.get("budget")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    options = (("max_teacher_calls", "--max-teacher-calls"), ("patience", "--patience"))
    differ = [f"{flag} {old.get(key)} recorded, {new.get(key)} here" for key, flag in options
              if old.get(key) != new.get(key)]
    if not differ:
        return None
    return ("the compile's limits differ from the recording's (" + "; ".join(differ) + "): replay with "
            + " ".join(f"{flag} {old.get(key)}" for key, flag in options))


def build_difference(recorded: dict[str, Any] | None, current: dict[str, Any] | None) -> str:
    """Why a replayed request may differ, as far as the student builds tell: what differs between the build a
    call was recorded with and this one, or that they match (then the plan, examples or code changed)."""
    if recorded is None:
        return ("the transcript records no student build (it was written before sgde kept one), so whether the "
                "student's thread count or llama.cpp build differs from the recording's is unknown; if they are "
                "the same, the plan, the examples, the task or sgde's code changed")
    if current is None:
        return "this student reports no build to compare with the recording's"
    differences = []
    if recorded.get("n_threads") != current.get("n_threads"):
        differences.append(f"thread count {recorded.get('n_threads')} recorded, {current.get('n_threads')} here")
    if recorded.get("llama_cpp_python") != current.get("llama_cpp_python"):
        differences.append(f"llama-cpp-python {recorded.get('llama_cpp_python')} recorded, "
                           f"{current.get('llama_cpp_python')} here")
    if recorded.get("system_info") != current.get("system_info"):
        old, new = _system_items(recorded.get("system_info")), _system_items(current.get("system_info"))
        only_old = [item for item in old if item not in new]
        only_new = [item for item in new if item not in old]
        differences.append(f"llama.cpp system info: recorded {' | '.join(only_old) or '(nothing else)'}; "
                           f"here {' | '.join(only_new) or '(nothing else)'}")
    others = sorted(k for k in set(recorded) | set(current)
                    if k not in ("n_threads", "llama_cpp_python", "system_info") and recorded.get(k) != current.get(k))
    differences += [f"{key} {recorded.get(key)!r} recorded, {current.get(key)!r} here" for key in others]
    if differences:
        return "the student's build differs from the recording's: " + "; ".join(differences)
    return (f"the student's build matches the recording's ({current.get('n_threads')} threads, llama-cpp-python "
            f"{current.get('llama_cpp_python')}, the same llama.cpp system info), so the plan, the examples, the "
            "task or sgde's code changed")


def request_diff(recorded: dict[str, Any], asked: TeacherRequest, limit: int = 4000) -> str:
    old = TeacherRequest.model_validate(recorded).canonical().splitlines()
    new = asked.canonical().splitlines()
    diff = "\n".join(difflib.unified_diff(old, new, "recorded", "asked", n=2, lineterm=""))
    return diff if len(diff) <= limit else diff[:limit] + f"\n... ({len(diff) - limit} more characters)"


class TranscriptTeacher(Teacher):
    """Recorded calls first, then the live teacher (if any), whose calls are appended to ``record_to``.

    ``student_build`` is the build of the student asking now: a mismatch is explained against it, and
    live calls are recorded with it."""

    def __init__(self, recorded: list[dict[str, Any]], *, live: Teacher | None = None,
                 record_to: str | Path | None = None, spec: str | None = None,
                 student_build: dict[str, Any] | None = None) -> None:
        self.recorded = recorded
        self.live = live
        self.position = 0
        self.student_build = student_build
        #: call index -> the student build the call's request was made with (None: not recorded)
        self._builds: dict[int, dict[str, Any] | None] = {
            index: call.get("student_build") for index, call in enumerate(recorded)}
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

    def build_of_call(self, index: int) -> dict[str, Any] | None:
        """The student build call ``index`` (0-based) was made with: recorded for a replayed call (also when the
        live teacher is itself a replay), this student's for a live one; None when unknown."""
        return self._builds.get(index)

    def ask(self, request: TeacherRequest) -> TeacherReply:
        index = self.position
        if index < len(self.recorded):
            call = self.recorded[index]
            if TeacherRequest.model_validate(call["request"]).canonical() != request.canonical():
                cause = budget_difference(call["request"], request) or \
                    build_difference(call.get("student_build"), self.student_build)
                raise ReplayMismatch(f"call {index + 1}: the request differs from the recorded one; {cause}:\n"
                                     + request_diff(call["request"], request), value=index + 1)
            self.position += 1
            return TeacherReply.model_validate(call["reply"])
        if self.live is None:
            raise ReplayMismatch(f"call {index + 1}: the transcript ends after {len(self.recorded)} calls",
                                 value=index + 1)
        reply = self.live.ask(request)
        self.position += 1
        live = self.live
        build = live.build_of_call(live.position - 1) if isinstance(live, TranscriptTeacher) else self.student_build
        self._builds[index] = build
        if self._out is not None:
            call: dict[str, Any] = {"call": index + 1, "teacher": self.live.spec}
            if build is not None:
                call["student_build"] = build
            call.update(request=request.model_dump(mode="json"), reply=reply.model_dump(mode="json"))
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
