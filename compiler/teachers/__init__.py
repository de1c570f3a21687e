"""Teachers: one interface (`Teacher.ask`), four backends chosen by a spec string.

- ``anthropic:MODEL`` — the Anthropic API (tool use for structured output)
- ``local:GGUF`` — a larger GGUF model through llama.cpp, decoding constrained by the schema
- ``command:CMD`` — any program: JSON request on stdin, JSON response on stdout
- ``replay:TRANSCRIPT`` — a recorded transcript; a request that differs is an error
"""

from __future__ import annotations

from ..errors import TeacherError
from .base import Teacher, TeacherReply, TeacherRequest, TeacherUsage, validate_reply
from .transcript import TranscriptTeacher, load_transcript

__all__ = ["Teacher", "TeacherReply", "TeacherRequest", "TeacherUsage", "TranscriptTeacher", "make_teacher",
           "validate_reply", "load_transcript"]


def make_teacher(spec: str) -> Teacher:
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise TeacherError(f"--teacher {spec!r}: expected anthropic:MODEL, local:GGUF, command:CMD or "
                           "replay:TRANSCRIPT", field="teacher")
    if kind == "anthropic":
        from .anthropic_teacher import AnthropicTeacher
        return AnthropicTeacher(rest)
    if kind == "local":
        from .local import LocalTeacher
        return LocalTeacher(rest)
    if kind == "command":
        from .command import CommandTeacher
        return CommandTeacher(rest)
    if kind == "replay":
        return TranscriptTeacher(load_transcript(rest), spec=None)
    raise TeacherError(f"--teacher {spec!r}: unknown teacher kind {kind!r} (anthropic, local, command, replay)",
                       field="teacher")
