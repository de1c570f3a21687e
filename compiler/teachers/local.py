"""`local:GGUF` — a larger GGUF model as the teacher, through llama.cpp, fully on-prem.

Decoding is constrained by a grammar derived from the response schema, so the
reply is always JSON of the right shape; whether its content is any good is
for the loop's verification to find out, as with every teacher.
"""

from __future__ import annotations

import json
import time

from sgde.runtime import strict_json
from sgde.runtime.errors import SgdeError
from sgde.runtime.plan import Sampling
from sgde.runtime.settings import settings

from ..errors import TeacherProtocolError, TeacherUnavailable
from .base import Teacher, TeacherReply, TeacherRequest, TeacherUsage

_CHARS_PER_TOKEN = 3  # JSON is token-dense; a conservative guess keeps prompt + reply inside the context
_INSTRUCTION_TOKENS = 1500


_SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}
_SCHEMA_SLOTS = ("items", "additionalProperties")


def grammar_schema(schema):
    """The schema with its 'any value' holes ({} or true) narrowed to scalars: llama.cpp's
    converter cannot build a grammar for an unconstrained value."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key in _SCHEMA_SLOTS and (value == {} or value is True):
                out[key] = _SCALAR
            elif key in ("properties", "$defs") and isinstance(value, dict):
                out[key] = {name: _SCALAR if sub == {} else grammar_schema(sub) for name, sub in value.items()}
            else:
                out[key] = grammar_schema(value)
        return out
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    return schema


class LocalTeacher(Teacher):
    prices_known = True  # a model on this machine costs no USD

    def __init__(self, model: str, *, n_ctx: int | None = None, max_tokens: int | None = None) -> None:
        from sgde.runtime.student.llama import LlamaStudent, json_schema_grammar

        self.spec = f"local:{model}"
        self._grammar_of = json_schema_grammar
        env = settings("teacher_max_tokens", "teacher_n_ctx")  # SGDE_TEACHER_MAX_TOKENS, SGDE_TEACHER_N_CTX
        self.max_tokens = max_tokens or env.teacher_max_tokens
        n_ctx = n_ctx or env.teacher_n_ctx
        self.payload_chars = max(2000, (n_ctx - self.max_tokens - _INSTRUCTION_TOKENS) * _CHARS_PER_TOKEN)
        try:
            self._model = LlamaStudent(model, n_ctx=n_ctx)
        except SgdeError as exc:
            raise TeacherUnavailable(f"local teacher {model!r}: {exc.message}", field="teacher") from None

    def ask(self, request: TeacherRequest) -> TeacherReply:
        started = time.perf_counter()
        try:
            grammar = self._grammar_of(grammar_schema(request.response_schema))
        except SgdeError as exc:
            raise TeacherProtocolError(f"cannot constrain the local teacher to the response schema: {exc.message}",
                                       field="response_schema") from None
        payload = json.dumps(request.payload, indent=1, sort_keys=True, ensure_ascii=False)
        if len(payload) > self.payload_chars:
            payload = payload[:self.payload_chars] + "\n... (truncated to fit the context)"
        system = request.instructions + "\nReply with one JSON object that fits the response schema."
        try:
            generation = self._model.generate(system, payload, Sampling(temperature=0.0, max_tokens=self.max_tokens),
                                              grammar=grammar)
        except SgdeError as exc:
            raise TeacherUnavailable(f"local teacher failed: {exc.message}") from None
        try:
            data = strict_json.loads(generation.text)
        except strict_json.NotStrictJson as exc:
            raise TeacherProtocolError(f"local teacher's reply is JSON sgde does not take: {exc}", limit=exc.limit) \
                from None
        except json.JSONDecodeError:
            # the token budget ran out mid-object: still a reply (recorded, replayable), one the schema
            # check rejects with the reason, so the loop goes on
            data = {"incomplete_reply": generation.text[-500:],
                    "reason": f"the reply was cut at {generation.tokens_out} tokens (max_tokens {self.max_tokens})"}
        if not isinstance(data, dict):
            raise TeacherProtocolError("local teacher's reply is not a JSON object")
        usage = TeacherUsage(input_tokens=generation.tokens_in, output_tokens=generation.tokens_out,
                             seconds=time.perf_counter() - started)
        return TeacherReply(data=data, usage=usage)

    def close(self) -> None:
        self._model.close()
