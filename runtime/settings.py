"""Typed settings: every ``SGDE_*`` environment variable sgde reads, in one pydantic model.

Each field of `Settings` is the variable ``SGDE_<FIELD>`` (``n_ctx`` is
``SGDE_N_CTX``), with its type, bounds, default and description; the README's
table of environment variables is generated from it (`markdown_table`, kept
in step by tests/test_settings.py). An unset or blank variable takes the
default. A value that does not parse or is out of bounds is a
`SettingsError` naming the variable, the value and what was expected: a
usage error, exit status 2 in the CLI.

The environment is read on every call of `settings` (nothing is cached, so a
service or a test that sets a variable sees it at once; reading a dozen
variables costs microseconds and happens when a student, teacher or sandbox
is made, never per token). `settings("n_ctx")` reads only the variables it
names, so a bad value fails what uses it and nothing else; `settings()`
checks them all.

Command-line options that take a variable (``--model``/SGDE_MODEL,
``--teacher``/SGDE_TEACHER) are read by typer; they are here so that they are
documented, and for the library, where no option parser runs.

The sandbox runner (``sandbox/runner``) runs with an empty environment and
imports nothing of sgde: nothing here reaches it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import SgdeError

PREFIX = "SGDE_"
#: the largest context window or reply length a variable may ask for, in tokens
MAX_TOKENS = 1 << 20
#: the longest timeout a variable may ask for (30 days), in seconds
MAX_SECONDS = 30 * 24 * 3600.0


class SettingsError(SgdeError):
    """An ``SGDE_*`` environment variable holds a value sgde cannot use; ``field`` is the setting's name,
    ``value`` the variable's text. The message names the variable, its value and what is expected."""

    type_name = "settings_invalid"

    def __str__(self) -> str:  # the message already names the variable
        return self.message


def _default_threads() -> int:
    return max(1, os.cpu_count() or 1)


def _default_cache_dir() -> Path:
    return Path(os.path.expanduser("~")) / ".cache" / "sgde"  # "~" stays as is where no home is known


def _shown(text: str) -> dict[str, Any]:
    """How the README's table shows a default that is computed or absent."""
    return {"shown_default": text}


def _unit(text: str) -> dict[str, Any]:
    """What a number counts, for messages and the README's table."""
    return {"unit": text}


class Settings(BaseModel):
    """sgde's environment: one field per ``SGDE_<FIELD>`` variable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- the student ---------------------------------------------------------------
    model: str | None = Field(
        None, json_schema_extra=_shown("`qwen2.5-coder-1.5b`"),
        description="student model: a known model name or a GGUF path (`--model` of `run`, `compile`, `family eval`)")
    n_threads: int = Field(
        default_factory=_default_threads, ge=1, le=512, json_schema_extra={**_shown("every core"), **_unit("threads")},
        description="threads the student decodes with; greedy output depends on it, so a replay needs the "
                    "recording's count")
    n_ctx: int = Field(
        4096, ge=256, le=MAX_TOKENS, json_schema_extra=_unit("tokens"),
        description="the student's context window: prompt plus reply")
    cache_dir: Path = Field(
        default_factory=_default_cache_dir, json_schema_extra=_shown("`~/.cache/sgde`"),
        description="where assembled model files live (in its `models/`)")
    # --- sandboxes -------------------------------------------------------------------
    sandbox_image: str | None = Field(
        None, json_schema_extra=_shown("the image `sgde sandbox build-image` built for this sgde"),
        description="Docker image the docker backend runs code nodes in")
    # --- the compiler ----------------------------------------------------------------
    teacher: str | None = Field(
        None, json_schema_extra=_shown("none: `--teacher` is required"),
        description="teacher spec of `compile` and `family derive`/`eval` (`--teacher`): `anthropic:MODEL`, "
                    "`local:GGUF`, `command:CMD` or `replay:FILE`")
    teacher_timeout: float = Field(
        3600.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False, json_schema_extra=_unit("seconds"),
        description="how long a `command:` teacher may take per request (a person may be answering)")
    teacher_n_ctx: int = Field(
        16384, ge=256, le=MAX_TOKENS, json_schema_extra=_unit("tokens"),
        description="context window of a `local:` teacher")
    teacher_max_tokens: int = Field(
        4096, ge=1, le=MAX_TOKENS, json_schema_extra=_unit("tokens"),
        description="longest reply of a `local:` teacher")
    relay_timeout: float = Field(
        3600.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False, json_schema_extra=_unit("seconds"),
        description="how long the file-drop relay (`python -m sgde.compiler.teachers.relay`) waits for each "
                    "`response-N.json`")
    export_plan: Path | None = Field(
        None, json_schema_extra=_shown("the plan beside the test file"),
        description="plan file the tests written by `sgde export-tests` check (read by the exported file itself)")


def env_name(field: str) -> str:
    """The variable of a setting: ``n_ctx`` -> ``SGDE_N_CTX``."""
    return PREFIX + field.upper()


def variables() -> dict[str, str]:
    """Every variable sgde reads -> the name of its setting."""
    return {env_name(name): name for name in Settings.model_fields}


def expected(field: str) -> str:
    """What a setting's variable must hold, in words: 'a whole number of threads from 1 to 512'."""
    info = Settings.model_fields[field]
    kinds = set(get_args(info.annotation)) or {info.annotation}
    if int in kinds:
        text = "a whole number"
    elif float in kinds:
        text = "a number"
    elif Path in kinds:
        return "a path"
    else:
        return "text"
    unit = _extra(field).get("unit")
    if unit:
        text += f" of {unit}"
    low = next((m for m in info.metadata if isinstance(m, (annotated_types.Ge, annotated_types.Gt))), None)
    high = next((m for m in info.metadata if isinstance(m, annotated_types.Le)), None)
    if isinstance(low, annotated_types.Ge) and high is not None:
        return f"{text} from {_number(low.ge)} to {_number(high.le)}"
    if isinstance(low, annotated_types.Gt):
        text += f" greater than {_number(low.gt)}" + ("," if high is not None else "")
    return text + (f" at most {_number(high.le)}" if high is not None else "")


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def settings(*names: str, environ: Mapping[str, str] | None = None) -> Settings:
    """The settings, read now from ``environ`` (default: ``os.environ``).

    With names, only those variables are read and the other fields keep their defaults, so a bad value in
    an unrelated variable does not stop the caller: read a field only from settings that named it."""
    env = os.environ if environ is None else environ
    for name in names:
        if name not in Settings.model_fields:
            raise KeyError(f"no setting {name!r}; known: {sorted(Settings.model_fields)}")
    raw: dict[str, str] = {}
    for name in names or Settings.model_fields:
        text = env.get(env_name(name))
        if text is not None and text.strip():
            raw[name] = text
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        name = str(exc.errors()[0]["loc"][0])
        raise _bad(name, raw[name]) from None


def _bad(name: str, text: str) -> SettingsError:
    shown = repr(text) if len(text) <= 80 else repr(text[:77]) + "..."
    return SettingsError(f"{env_name(name)}={shown} is not valid: expected {expected(name)}", field=name,
                         value=text)


def setting_or_exit(name: str) -> Any:
    """One setting for a small script's argparse default: its value, or ``error: ...`` and exit status 2."""
    try:
        return getattr(settings(name), name)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _extra(field: str) -> dict[str, Any]:
    extra = Settings.model_fields[field].json_schema_extra
    return extra if isinstance(extra, dict) else {}


def shown_default(field: str) -> str:
    """A setting's default as the README's table shows it."""
    info = Settings.model_fields[field]
    if "shown_default" in _extra(field):
        return str(_extra(field)["shown_default"])
    return _number(info.default) if isinstance(info.default, (int, float)) else f"`{info.default}`"


def markdown_table() -> str:
    """The README's table of environment variables (tests/test_settings.py checks the README has it)."""
    lines = ["| variable | value | default | what it sets |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        lines.append(f"| `{env_name(name)}` | {expected(name)} | {shown_default(name)} | {info.description} |")
    return "\n".join(lines) + "\n"


__all__ = ["PREFIX", "Settings", "SettingsError", "env_name", "expected", "markdown_table", "setting_or_exit",
           "settings", "variables"]
