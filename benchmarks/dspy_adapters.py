"""DSPy on sgde's student and teacher: the adapters benchmarks/compare.py runs DSPy's optimisers with.

- `StudentLM`: DSPy's task model is sgde's llama.cpp student, in process (`LlamaStudent`). DSPy's chat
  messages become one `generate(system, user, sampling, shots=...)` call (the turns before the last user
  message are passed as shots); temperature, max_tokens, top_p/top_k/min_p, stop and seed are honoured, and
  every call's tokens and seconds are counted.
- `TeacherLM`: DSPy's prompt model (MIPROv2) or reflection model (GEPA) is sgde's teacher interface. Each LM
  call becomes a `TeacherRequest` of kind "complete" (payload: the messages; reply schema `{"text": ...}`),
  answered by a `TranscriptTeacher`: a live teacher (`make_teacher(spec)`, e.g. a `command:` frontier
  teacher) whose calls are recorded, or a recorded transcript replayed with no teacher at all.
- Two DSPy programs for a GSM-Hard question: `dspy.ChainOfThought("question -> answer: float")`, and
  `SandboxProgramOfThought`, whose generated solution() runs in sgde's sandbox exactly as the execute node of
  examples/gsmhard/pal.yaml runs it (restricted backend, strict policy), not in DSPy's Deno interpreter.

Needs the bench extra (`pip install -e ".[bench]"`); sgde's runtime never imports DSPy.

Determinism: DSPy's cache is switched off (and these LMs never use it), DSPy runs one thread, the student
decodes with fixed seeds, and the optimisers are seeded, so a replayed optimisation asks the same teacher
requests in the same order. Changing the source of `SandboxProgramOfThought` changes MIPROv2's requests
(its program-aware proposer shows the module's source to the teacher), so recorded transcripts then no
longer replay.
"""

from __future__ import annotations

import json
import random
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dspy
from pydantic import BaseModel, ConfigDict

from sgde.compiler.errors import ReplayMismatch
from sgde.compiler.scoring import as_number, is_correct
from sgde.compiler.teachers import Teacher, TeacherRequest, TranscriptTeacher, load_transcript, make_teacher
from sgde.compiler.teachers.base import validate_reply
from sgde.runtime.errors import SgdeError
from sgde.runtime.executor import Executor, resolve_node_policy
from sgde.runtime.parsers import parse_code_block
from sgde.runtime.plan import CodeNode, Sampling, Shot
from sgde.runtime.plan_io import load_plan
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox import SandboxBackend, make_backend
from sgde.runtime.student import Student

REPO = Path(__file__).resolve().parent.parent
PAL = REPO / "examples" / "gsmhard" / "pal.yaml"

# DSPy 3.4 deprecates BaseLM.forward() in favour of lm15 engines, but supports it throughout 3.4 (pinned by the
# bench extra); the brief for these adapters is a BaseLM subclass, so the notice is noise here.
warnings.filterwarnings("ignore", message="Implementing custom LMs through BaseLM.forward", category=DeprecationWarning)


# --- usage -----------------------------------------------------------------------------------------------------


@dataclass
class LMUsage:
    """What one LM (and every DSPy copy of it: they share this object) has spent."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    chars: int = 0  # request + reply characters (teacher calls)

    def snapshot(self) -> "LMUsage":
        return LMUsage(self.calls, self.tokens_in, self.tokens_out, self.seconds, self.chars)

    def since(self, before: "LMUsage") -> "LMUsage":
        return LMUsage(self.calls - before.calls, self.tokens_in - before.tokens_in,
                       self.tokens_out - before.tokens_out, self.seconds - before.seconds, self.chars - before.chars)


def call_chars(request: dict[str, Any], reply_data: dict[str, Any]) -> int:
    """Characters that crossed the teacher interface in one call: the request and the reply's data as compact
    JSON (compare.py's teacher_cost counts DSPy's and sgde's transcripts the same way)."""
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return len(compact(request)) + len(compact(reply_data))


# --- messages --------------------------------------------------------------------------------------------------


def _text(content: Any) -> str:
    """A message's content as text (OpenAI content parts are joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                if part.get("type") in (None, "text", "input_text", "output_text"):
                    parts.append(str(part.get("text", "")))
                else:
                    raise ValueError(f"cannot send a {part.get('type')!r} content part to a text model")
            else:
                parts.append(str(part))
        return "".join(parts)
    return str(content)


def plain_messages(prompt: str | None, messages: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """DSPy's call as [{"role", "content"}] with text content only."""
    if messages is None:
        messages = [{"role": "user", "content": prompt or ""}]
    return [{"role": str(m.get("role", "user")), "content": _text(m.get("content"))} for m in messages]


def split_messages(messages: list[dict[str, Any]]) -> tuple[str, tuple[Shot, ...], str]:
    """(system, shots, user) for `Student.generate`: system messages before the first turn make the system
    prompt; the turns before the last user message become user/assistant shots (adjacent messages of one role
    are joined, a system message after the first turn is read as a user turn); the last user message is the
    user prompt."""
    system: list[str] = []
    turns: list[list[str]] = []
    for message in messages:
        role, text = message.get("role", "user"), _text(message.get("content"))
        if role in ("system", "developer") and not turns:
            system.append(text)
            continue
        role = "assistant" if role == "assistant" else "user"
        if turns and turns[-1][0] == role:
            turns[-1][1] += "\n\n" + text
        else:
            turns.append([role, text])
    if turns and turns[0][0] == "assistant":  # an opening assistant turn has no question: keep it as context
        system.append(turns.pop(0)[1])
    if not turns or turns[-1][0] != "user":
        raise ValueError("the conversation must end with a user message for the student to answer")
    shots = tuple(Shot(user=turns[i][1], assistant=turns[i + 1][1]) for i in range(0, len(turns) - 1, 2))
    return "\n\n".join(system), shots, turns[-1][1]


def _response(model: str, texts: list[str], finishes: list[str | None], tokens_in: int, tokens_out: int) -> dict:
    """An OpenAI-shaped chat completion, what DSPy's legacy BaseLM.forward() returns."""
    return {"model": model, "object": "chat.completion",
            "choices": [{"index": i, "finish_reason": finish or "stop",
                         "message": {"role": "assistant", "content": text}}
                        for i, (text, finish) in enumerate(zip(texts, finishes, strict=True))],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                      "total_tokens": tokens_in + tokens_out}}


# --- the student -----------------------------------------------------------------------------------------------


class StudentLM(dspy.BaseLM):
    """DSPy's task model: sgde's llama.cpp student in this process.

    ``seed`` is the decoding seed when DSPy asks for none; a DSPy ``rollout_id`` (how DSPy asks for another
    sample of the same prompt) and the index of each of ``n`` samples shift it, deterministically."""

    def __init__(self, student: Student, *, temperature: float = 0.0, max_tokens: int = 512, seed: int = 0,
                 usage: LMUsage | None = None) -> None:
        super().__init__(model=f"sgde-student/{student.model_name}", model_type="chat", temperature=temperature,
                         max_tokens=max_tokens, cache=False, num_retries=0)
        self.student = student
        self.seed = seed
        self.usage = usage or LMUsage()
        self._lock = threading.Lock()  # one llama.cpp context: one generation at a time

    def _sampling(self, options: dict[str, Any], index: int) -> Sampling:
        seed = options.get("seed")
        seed = self.seed if seed is None else int(seed)
        rollout = options.get("rollout_id")
        if isinstance(rollout, int) and not isinstance(rollout, bool):
            seed += 1_000_003 * rollout
        seed = (seed + 7919 * index) % 2**31
        fields: dict[str, Any] = {"temperature": min(max(float(options.get("temperature") or 0.0), 0.0), 5.0),
                                  "max_tokens": int(options.get("max_tokens") or 512), "seed": seed}
        for key in ("top_p", "top_k", "min_p"):
            if options.get(key) is not None:
                fields[key] = options[key]
        stop = options.get("stop")
        if stop:
            fields["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        return Sampling(**fields)

    def forward(self, prompt: str | None = None, messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> dict:
        options = {**self.kwargs, **kwargs}
        system, shots, user = split_messages(plain_messages(prompt, messages))
        texts, finishes, tokens_in, tokens_out = [], [], 0, 0
        for index in range(int(options.get("n") or 1)):
            sampling = self._sampling(options, index)
            with self._lock:
                generation = self.student.generate(system, user, sampling, shots=shots)
            texts.append(generation.text)
            finishes.append(generation.finish_reason)
            tokens_in += generation.tokens_in
            tokens_out += generation.tokens_out
            self.usage.calls += 1
            self.usage.tokens_in += generation.tokens_in
            self.usage.tokens_out += generation.tokens_out
            self.usage.seconds += generation.duration_s
        return _response(self.model, texts, finishes, tokens_in, tokens_out)


# --- the teacher -----------------------------------------------------------------------------------------------

COMPLETE_INSTRUCTIONS = (
    "You are the language model behind a prompt optimiser (DSPy). `payload.messages` is a chat (OpenAI style: "
    "system, user and assistant messages). Write the assistant's next message: follow the system message and "
    "the last user message, above all the output format they ask for (output fields between [[ ## name ## ]] "
    "markers, or a JSON object with the fields named), exactly. Reply with "
    "{\"text\": \"<the assistant's message>\"}. When `payload.sample` is present, this is sample `sample` of "
    "`samples` independent answers to the same chat.")

TEXT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


class TextReply(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str


class TeacherLM(dspy.BaseLM):
    """DSPy's prompt/reflection model answered through sgde's teacher interface (see module docstring)."""

    def __init__(self, teacher: Teacher, *, usage: LMUsage | None = None, temperature: float = 1.0,
                 max_tokens: int = 8000) -> None:
        # the model name is fixed: a replay (whose teacher spec differs from the recording's) must look the same
        super().__init__(model="sgde-teacher", model_type="chat", temperature=temperature, max_tokens=max_tokens,
                         cache=False, num_retries=0)
        self.teacher = teacher
        self.usage = usage or LMUsage()
        self._lock = threading.Lock()

    def forward(self, prompt: str | None = None, messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> dict:
        options = {**self.kwargs, **kwargs}
        chat = plain_messages(prompt, messages)
        n = int(options.get("n") or 1)
        texts = []
        for index in range(n):
            payload: dict[str, Any] = {"messages": chat}
            if n > 1:
                payload.update(sample=index + 1, samples=n)
            request = TeacherRequest(kind="complete", instructions=COMPLETE_INSTRUCTIONS,
                                     response_schema=TEXT_SCHEMA, payload=payload)
            with self._lock:
                reply = self.teacher.ask(request)
            text = validate_reply(reply.data, TextReply).text  # type: ignore[attr-defined]
            texts.append(text)
            self.usage.calls += 1
            self.usage.tokens_in += reply.usage.input_tokens
            self.usage.tokens_out += reply.usage.output_tokens
            self.usage.seconds += reply.usage.seconds
            self.usage.chars += call_chars(request.model_dump(mode="json"), reply.data)
        return _response(self.model, texts, [None] * n, 0, 0)


def recorded_teacher(transcript: Path, spec: str | None, *, fresh: bool = False,
                     student_build: dict[str, Any] | None = None) -> TranscriptTeacher:
    """The teacher of one DSPy optimisation: ``transcript`` replayed, then (with ``spec``) the live teacher,
    every live call appended to ``transcript``. ``fresh`` discards what was recorded (only with a live one)."""
    recorded = load_transcript(transcript) if transcript.exists() and not fresh else []
    if spec is None:
        if not transcript.exists():
            raise FileNotFoundError(f"no recorded DSPy transcript {transcript}: a teacher is needed to record it "
                                    "(--teacher SPEC, e.g. command:CMD or anthropic:MODEL)")
        return TranscriptTeacher(recorded, spec=f"replay:{transcript}", student_build=student_build)
    live = make_teacher(spec)
    return TranscriptTeacher(recorded, live=live, record_to=transcript, student_build=student_build)


# --- DSPy set-up -----------------------------------------------------------------------------------------------


def configure_dspy(student_lm: StudentLM, *, seed: int = 0) -> None:
    """No cache (a replay must really run), one thread (one llama.cpp context), the student as the LM, seeds."""
    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    dspy.configure(lm=student_lm, num_threads=1, max_errors=10_000)
    random.seed(seed)
    try:
        import numpy

        numpy.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy comes with DSPy's optimisers
        pass


# --- the programs ----------------------------------------------------------------------------------------------


def chain_of_thought() -> dspy.Module:
    return dspy.ChainOfThought("question -> answer: float")


class WriteSolution(dspy.Signature):
    """Write a Python program that solves the math word problem. Define exactly one function, solution(), with no
    arguments, that returns the answer as a number. Use only plain Python: no imports, no input(), no print()."""

    question: str = dspy.InputField()
    code: str = dspy.OutputField(desc="Python source code that defines solution()")


class PalSandbox:
    """Runs a generated program as examples/gsmhard/pal.yaml's execute node does: the node's entry shim, its
    policy (strict, resolved against the default deployment policy) and the restricted backend."""

    def __init__(self, backend: SandboxBackend | None = None) -> None:
        plan = load_plan(PAL)
        node = plan.node("execute")
        assert isinstance(node, CodeNode)
        self.node = node
        self.policy = resolve_node_policy(node, load_policy("default"), PAL.parent)
        self._own = backend is None
        self.backend = backend if backend is not None else make_backend(self.policy.backend)

    def __deepcopy__(self, memo: dict[int, Any]) -> "PalSandbox":  # DSPy deep-copies programs: share the sandbox
        return self

    def run(self, code: str) -> Any:
        """solution()'s value (SgdeError when the sandbox refuses, the code raises or a limit trips)."""
        result = self.backend.run(Executor.entry_source(self.node, code), {}, self.policy, node="dspy-pot",
                                  reviewed=self.node.reviewed)
        output = result.output
        return output.get("result") if isinstance(output, dict) else output

    def close(self) -> None:
        if self._own:
            self.backend.close()


class SandboxProgramOfThought(dspy.Module):
    """Program of thought: the student writes solution() (with its reasoning first), sgde's sandbox runs it, and
    its value is the answer (as PAL does; no second LM call reads the value back)."""

    def __init__(self, sandbox: PalSandbox) -> None:
        super().__init__()
        self.write = dspy.ChainOfThought(WriteSolution)
        self.sandbox = sandbox

    def forward(self, question: str) -> dspy.Prediction:
        code = parse_code_block(self.write(question=question).code or "")
        try:
            answer, error = self.sandbox.run(code), None
        except SgdeError as exc:
            answer, error = None, f"{exc.type_name}: {exc.message}"
        return dspy.Prediction(answer=answer, code=code, error=error)


def make_program(kind: str, sandbox: PalSandbox) -> dspy.Module:
    if kind == "cot":
        return chain_of_thought()
    if kind == "pot":
        return SandboxProgramOfThought(sandbox)
    raise ValueError(f"unknown DSPy program {kind!r} (cot, pot)")


def load_program(kind: str, sandbox: PalSandbox, path: Path) -> dspy.Module:
    """A program optimised earlier, as ``optimised.save(path)`` wrote it (instructions, demos): scoring it on
    more variants needs neither the teacher nor the optimisation's student calls again."""
    if not path.exists():
        raise FileNotFoundError(f"no saved DSPy program {path}: optimise it first (compare.py without --dspy-saved)")
    program = make_program(kind, sandbox)
    program.load(str(path))
    return program


# --- metric and data -------------------------------------------------------------------------------------------


def metric(example: dspy.Example, prediction: dspy.Prediction, trace: Any = None, *rest: Any) -> float:
    """PAL's score: |prediction - answer| < 1e-3."""
    return float(is_correct(getattr(prediction, "answer", None), float(example.answer)))


def feedback_metric(gold: dspy.Example, pred: dspy.Prediction, trace: Any = None, pred_name: str | None = None,
                    pred_trace: Any = None) -> dspy.Prediction:
    """GEPA's metric: the score and what went wrong, in words."""
    score = metric(gold, pred)
    answer = getattr(pred, "answer", None)
    if score:
        feedback = f"Correct: the answer is {gold.answer:g}."
    else:
        feedback = f"Wrong: the correct answer is {gold.answer:g}; the program answered {answer!r}."
        error = getattr(pred, "error", None)
        if error:
            feedback += f" Running the generated solution() failed: {error[:400]}"
    return dspy.Prediction(score=score, feedback=feedback)


def examples_from(rows: list[dict[str, Any]]) -> list[dspy.Example]:
    """{id, input: {question}, answer} rows (train.jsonl, sampled variants) as DSPy examples."""
    return [dspy.Example(question=row["input"]["question"], answer=float(row["answer"])).with_inputs("question")
            for row in rows]


# --- optimisers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budgets:
    """Small explicit budgets, so that one optimisation takes minutes on a 2-core CPU."""

    mipro_candidates: int = 4  # instruction candidates and few-shot demo sets
    mipro_trials: int = 8  # Bayesian-optimisation trials, each a full pass over the valset
    mipro_demos: int = 4  # max bootstrapped and max labeled demos (m caps them anyway)
    gepa_evals_per_example: int = 10  # GEPA's max_metric_calls = this x m

    def describe(self, m: int) -> str:
        return (f"MIPROv2: auto=None, num_candidates={self.mipro_candidates}, num_trials={self.mipro_trials}, "
                f"max_bootstrapped_demos={self.mipro_demos}, max_labeled_demos={self.mipro_demos}, "
                f"minibatch=False, valset=trainset (m={m}), seed=0; "
                f"GEPA: max_metric_calls={self.gepa_evals_per_example * m}, reflection_minibatch_size={min(3, m)}, "
                "use_merge=False, candidate_selection=pareto, seed=0")


def optimise(optimizer: str, program: dspy.Module, trainset: list[dspy.Example], teacher_lm: TeacherLM,
             student_lm: StudentLM, budgets: Budgets) -> dspy.Module:
    """Run MIPROv2 or GEPA on the m training examples (also the validation set: m is 1 to 5)."""
    m = len(trainset)
    if optimizer == "mipro":
        tuner = dspy.MIPROv2(metric=metric, prompt_model=teacher_lm, task_model=student_lm, auto=None,
                             num_candidates=budgets.mipro_candidates, max_bootstrapped_demos=budgets.mipro_demos,
                             max_labeled_demos=budgets.mipro_demos, num_threads=1, seed=0, verbose=False)
        return tuner.compile(program, trainset=trainset, valset=trainset, num_trials=budgets.mipro_trials,
                             minibatch=False, seed=0)
    if optimizer == "gepa":
        tuner = dspy.GEPA(metric=feedback_metric, max_metric_calls=budgets.gepa_evals_per_example * m,
                          reflection_lm=teacher_lm, reflection_minibatch_size=min(3, m), use_merge=False,
                          num_threads=1, seed=0)
        return tuner.compile(program, trainset=trainset, valset=trainset)
    raise ValueError(f"unknown optimiser {optimizer!r} (mipro, gepa)")


def check_replayed(teacher: TranscriptTeacher) -> None:
    """A replay must use every recorded call; fewer means the optimisation took another path."""
    if teacher.live is None and teacher.position != len(teacher.recorded):
        raise ReplayMismatch(f"the replay asked {teacher.position} of the {len(teacher.recorded)} recorded teacher "
                             "calls: the optimisation took another path than the recording's",
                             value=teacher.position)


# --- evaluation ------------------------------------------------------------------------------------------------


class ItemOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    answer: float
    prediction: Any = None
    correct: bool
    error: str | None = None
    seconds: float
    tokens_in: int
    tokens_out: int


def run_item(program: dspy.Module, student_lm: StudentLM, item_id: str, question: str, answer: float) -> ItemOutcome:
    """One question through a DSPy program; a failure (unparseable output, sandbox error) is a wrong answer."""
    before = student_lm.usage.snapshot()
    started = time.perf_counter()
    prediction, error = None, None
    try:
        with dspy.context(lm=student_lm):
            result = program(question=question)
        prediction = getattr(result, "answer", None)
        error = getattr(result, "error", None)
    except Exception as exc:  # DSPy raises its own errors (AdapterParseError...) for output it cannot read
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
    spent = student_lm.usage.since(before)
    if error is None and as_number(prediction) is None:
        error = f"non_numeric: {str(prediction)[:100]!r}"
    return ItemOutcome(id=item_id, answer=answer, prediction=prediction if as_number(prediction) is not None
                       else str(prediction), correct=error is None and is_correct(prediction, answer), error=error,
                       seconds=round(time.perf_counter() - started, 4), tokens_in=spent.tokens_in,
                       tokens_out=spent.tokens_out)
