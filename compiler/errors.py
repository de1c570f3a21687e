"""Errors the compiler raises on purpose; all are ``SgdeError`` so the CLI treats them alike."""

from __future__ import annotations

from sgde.runtime.errors import SgdeError


class TeacherError(SgdeError):
    """Base of everything that goes wrong asking a teacher."""
    type_name = "teacher_error"


class TeacherUnavailable(TeacherError):
    """The teacher could not be reached or kept failing after the retries (429/529/5xx/timeouts)."""
    type_name = "teacher_unavailable"


class TeacherProtocolError(TeacherError):
    """The teacher answered outside the protocol: a command's non-zero exit, invalid JSON, no tool call."""
    type_name = "teacher_protocol"


class TeacherReplyInvalid(TeacherError):
    """The teacher's JSON does not fit the response schema; ``field`` names the first offending path."""
    type_name = "teacher_reply_invalid"


class ReplayMismatch(TeacherError):
    """A replayed compile asked something other than what the transcript recorded (``value`` is the diff)."""
    type_name = "replay_mismatch"


class CodeRejected(SgdeError):
    """Generated code failed verification: the static audit, the sandbox, or its property tests."""
    type_name = "code_rejected"


class FamilyError(SgdeError):
    """A task family is malformed, or deriving/sampling it failed; names the field."""
    type_name = "family_invalid"


class CompileError(SgdeError):
    """A compile cannot start or go on (bad task file, bad examples, a checkpoint that does not fit)."""
    type_name = "compile_error"
