"""`command:CMD` — any program as a teacher: JSON request on stdin, JSON response on stdout.

This plugs in a model gateway, a different vendor, or a person answering by
hand. The program is run once per request; its stdout is the response object
(or ``{"response": {...}, "usage": {...}}`` when it wants to report tokens/USD).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time

from sgde.runtime import strict_json
from sgde.runtime.settings import settings

from ..errors import TeacherProtocolError, TeacherUnavailable
from .base import Teacher, TeacherReply, TeacherRequest, TeacherUsage


class CommandTeacher(Teacher):
    def __init__(self, command: str, *, timeout_s: float | None = None) -> None:
        self.spec = f"command:{command}"
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise TeacherProtocolError(f"cannot split the command {command!r}: {exc}", field="teacher") from None
        if not self.argv:
            raise TeacherProtocolError("command: needs a program to run", field="teacher")
        self.timeout_s = timeout_s or settings("teacher_timeout").teacher_timeout  # SGDE_TEACHER_TIMEOUT

    def ask(self, request: TeacherRequest) -> TeacherReply:
        started = time.perf_counter()
        try:
            done = subprocess.run(self.argv, input=request.canonical(), capture_output=True, text=True,
                                  timeout=self.timeout_s, check=False)
        except FileNotFoundError:
            raise TeacherUnavailable(f"teacher command not found: {self.argv[0]!r}", field="teacher") from None
        except subprocess.TimeoutExpired:
            raise TeacherUnavailable(f"teacher command gave no answer within {self.timeout_s:g} s",
                                     limit="timeout_s", value=self.timeout_s) from None
        if done.returncode != 0:
            raise TeacherProtocolError(f"teacher command exited with status {done.returncode}: "
                                       f"{done.stderr.strip()[-500:] or '(no stderr)'}", value=done.returncode)
        try:
            answer = strict_json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise TeacherProtocolError(f"teacher command did not print JSON ({exc.msg} at line {exc.lineno}): "
                                       f"{done.stdout.strip()[:200]!r}") from None
        except strict_json.NotStrictJson as exc:
            raise TeacherProtocolError(f"teacher command printed JSON sgde does not take: {exc}", limit=exc.limit) \
                from None
        if not isinstance(answer, dict):
            raise TeacherProtocolError(f"teacher command printed {type(answer).__name__}, not a JSON object")
        usage = TeacherUsage()
        if set(answer) <= {"response", "usage"} and isinstance(answer.get("response"), dict):
            try:
                usage = TeacherUsage.model_validate(answer.get("usage") or {})
            except ValueError as exc:
                raise TeacherProtocolError(f"teacher command's usage is malformed: {exc}") from None
            answer = answer["response"]
        usage.seconds = time.perf_counter() - started
        return TeacherReply(data=answer, usage=usage)
