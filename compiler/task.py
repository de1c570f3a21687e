"""What a compile starts from: the task file (inputs, output, optional seed plan) and its examples."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sgde.runtime.errors import InputError, PlanError
from sgde.runtime.jsonl import read_json_objects
from sgde.runtime.plan import InputSpec, Plan
from sgde.runtime.plan_io import load_plan, parse_plan
from sgde.runtime.yaml_load import load_yaml

from .errors import CompileError

DEFAULT_SYSTEM = ("Solve the problem step by step. Finish with a last line of the form 'Answer: <number>', "
                  "the number written with digits only.")


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sgde_task: Literal[1] = 1
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    description: str = ""
    variation: str = Field("", description="how unseen inputs differ from the training examples (wording, "
                           "formats, order...); the teacher is told, so that the plan generalises over it")
    inputs: dict[str, InputSpec]
    output_type: Literal["number", "integer", "string", "any"] = "number"
    seed_plan: str | None = Field(None, description="path of the task's own seed plan, relative to the task file")
    system: str = Field(DEFAULT_SYSTEM, description="system prompt of the single-node seed plan")
    max_tokens: int = Field(384, ge=16, le=4096, description="token budget of the single-node seed plan")


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    input: dict[str, Any]
    answer: float


def load_task(path: str | Path) -> Task:
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
        return Task.model_validate(data)
    except OSError as exc:
        raise CompileError(f"cannot read task file {path}: {exc.strerror}", field="task") from None
    except yaml.YAMLError as exc:
        raise CompileError(f"task file {path} is not YAML: {exc}", field="task") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise CompileError(f"task file {path}: {err['msg']}",
                           field=".".join(str(p) for p in err["loc"]) or "task") from None


def seed_plan(task: Task, task_path: str | Path) -> Plan:
    """The task's own plan, or one student node that reads every input and answers."""
    if task.seed_plan:
        try:
            return load_plan(Path(task_path).parent / task.seed_plan)
        except PlanError as exc:
            raise CompileError(f"seed plan: {exc}", field="seed_plan") from None
    user = "\n\n".join(f"{{{name}}}" for name in task.inputs)
    return parse_plan({
        "name": task.name, "description": task.description or f"{task.name}: the student answers directly.",
        "inputs": {k: v.model_dump() for k, v in task.inputs.items()},
        "output": {"from": "answer", "type": task.output_type},
        "nodes": [{"id": "answer", "kind": "llm", "reads": list(task.inputs), "system": task.system, "user": user,
                   "sampling": {"temperature": 0.0, "max_tokens": task.max_tokens},
                   "parser": {"kind": "number", "pick": "last"}}],
    })


def load_examples(path: str | Path, task: Task, m: int | None = None) -> list[Example]:
    """The first m examples of a JSONL file ({id, input, answer}); errors name the line and field."""
    path = Path(path)
    examples = _read_examples(path, task, m)
    if not examples or (m is not None and len(examples) < m):
        raise CompileError(f"{path} has {len(examples)} examples, {m} asked for", field="examples")
    return examples


def load_split(path: str | Path, task: Task, m: int, holdout: int) -> tuple[list[Example], list[Example]]:
    """The first m examples of a JSONL file for training, and the `holdout` after them, which the teacher never
    sees (`--holdout K`)."""
    if holdout == 0:
        return load_examples(path, task, m), []
    path = Path(path)
    examples = _read_examples(path, task, m + holdout)
    if len(examples) < m + holdout:
        raise CompileError(f"--holdout {holdout}: {path} has {len(examples)} examples, but --m {m} training plus "
                           f"{holdout} held-out examples need {m + holdout}", field="holdout")
    train, held_out = examples[:m], examples[m:]
    _refuse_leaks(train, held_out, path)
    return train, held_out


def _refuse_leaks(train: list[Example], held_out: list[Example], path: Path) -> None:
    """A held-out example that repeats a training one (same id, or the same input under another id) would
    let code fitted to the training questions pass the held-out check, so the split is refused."""
    seen_ids = {e.id: e for e in train}
    seen_inputs = {json.dumps(e.input, sort_keys=True): e for e in train}
    for example in held_out:
        twin = seen_ids.get(example.id) or seen_inputs.get(json.dumps(example.input, sort_keys=True))
        if twin is not None:
            same = "id" if twin.id == example.id else "input"
            raise CompileError(f"--holdout: held-out example {example.id!r} in {path} has the same {same} as "
                               f"training example {twin.id!r}; the teacher would have seen it", field="holdout")


def _read_examples(path: Path, task: Task, limit: int | None) -> list[Example]:
    """Up to `limit` examples (all without one); fewer when the file ends first."""
    examples: list[Example] = []
    try:
        rows = list(read_json_objects(path, field="examples"))
    except InputError as exc:
        raise CompileError(exc.message, field="examples") from None
    for number, raw in rows:
        try:
            # keys the task does not take (ids, params) are ignored, as `sgde run --input-file` does
            inputs = {k: v for k, v in raw["input"].items() if k in task.inputs}
            example = Example.model_validate({"id": raw.get("id", f"line-{number}"), "input": inputs,
                                              "answer": raw["answer"]})
        except (KeyError, AttributeError, ValidationError) as exc:
            raise CompileError(f"{path} line {number}: not an example {{id, input, answer}}: {exc}",
                               field="examples") from None
        missing = sorted(set(task.inputs) - set(example.input))
        if missing:
            raise CompileError(f"{path} line {number}: input lacks {missing}", field="examples")
        examples.append(example)
        if limit is not None and len(examples) == limit:
            break
    return examples


def examples_sha256(examples: list[Example]) -> str:
    text = json.dumps([e.model_dump(mode="json") for e in examples], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
