"""Typed settings: every SGDE_* variable is in the model and the README, and a bad value is a usage error naming it."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sgde.runtime.errors import SgdeError
from sgde.runtime.settings import (
    MAX_SECONDS,
    MAX_TOKENS,
    Settings,
    SettingsError,
    env_name,
    markdown_table,
    settings,
    variables,
)
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
#: the settings parsed as numbers: (field, lowest, highest, integer?)
NUMERIC = {"n_threads": (1, 512, True), "n_ctx": (256, MAX_TOKENS, True), "teacher_n_ctx": (256, MAX_TOKENS, True),
           "teacher_max_tokens": (1, MAX_TOKENS, True), "teacher_timeout": (0, MAX_SECONDS, False),
           "relay_timeout": (0, MAX_SECONDS, False)}


def _readme_table() -> dict[str, str]:
    """Variable -> its row, from the README's table of environment variables."""
    rows = re.findall(r"^\| `(SGDE_[A-Z0-9_]+)` \|(.*)$", README, re.MULTILINE)
    return {name: row for name, row in rows}


def test_every_variable_is_documented_in_the_readme_table():
    documented, known = set(_readme_table()), set(variables())
    assert not known - documented, f"settings missing from the README's table: {sorted(known - documented)}"
    assert not documented - known, f"README documents variables sgde does not read: {sorted(documented - known)}"


def test_the_readme_table_is_the_generated_one():
    """Types, bounds, defaults and descriptions cannot drift: the table is generated from the model."""
    assert markdown_table() in README


def test_every_variable_read_in_the_code_is_a_setting():
    """No ad-hoc SGDE_* reads come back: each name the code mentions is a field (the runner reads none)."""
    mentioned: set[str] = set()
    for folder in ("runtime", "compiler"):
        for path in (REPO / folder).rglob("*.py"):
            if "runner" not in path.relative_to(REPO).parts:
                mentioned |= set(re.findall(r"\b(SGDE_[A-Z0-9_]*[A-Z0-9])\b", path.read_text(encoding="utf-8")))
    assert mentioned <= set(variables()), sorted(mentioned - set(variables()))


def test_every_field_has_a_description_and_the_defaults_are_the_documented_ones():
    from sgde.runtime.student.models import DEFAULT_MODEL
    assert all(info.description for info in Settings.model_fields.values())
    defaults = settings(environ={})
    assert (defaults.model, defaults.n_ctx, defaults.teacher_n_ctx, defaults.teacher_max_tokens) == \
        (None, 4096, 16384, 4096)
    assert defaults.teacher_timeout == defaults.relay_timeout == 3600.0
    assert defaults.sandbox_image is None and defaults.teacher is None and defaults.export_plan is None
    assert defaults.cache_dir == Path("~").expanduser() / ".cache" / "sgde"
    assert 1 <= defaults.n_threads <= 512
    assert f"`{DEFAULT_MODEL}`" in _readme_table()["SGDE_MODEL"]


def test_blank_is_unset_and_values_parse():
    env = {"SGDE_N_CTX": " 2048 ", "SGDE_N_THREADS": "", "SGDE_TEACHER_TIMEOUT": "1.5", "SGDE_CACHE_DIR": "/c",
           "SGDE_MODEL": "   ", "SGDE_SANDBOX_IMAGE": "img:1", "SGDE_EXPORT_PLAN": "p.yaml"}
    got = settings(environ=env)
    assert (got.n_ctx, got.teacher_timeout, got.cache_dir, got.model, got.sandbox_image, got.export_plan) == \
        (2048, 1.5, Path("/c"), None, "img:1", Path("p.yaml"))
    assert got.n_threads == settings(environ={}).n_threads


def test_the_environment_is_read_on_each_call(monkeypatch):
    monkeypatch.setenv("SGDE_N_CTX", "1024")
    assert settings().n_ctx == 1024
    monkeypatch.setenv("SGDE_N_CTX", "2048")
    assert settings("n_ctx").n_ctx == 2048


def test_named_settings_read_only_their_own_variables():
    env = {"SGDE_N_CTX": "abc", "SGDE_N_THREADS": "3"}
    assert settings("n_threads", environ=env).n_threads == 3
    with pytest.raises(SettingsError):
        settings(environ=env)
    with pytest.raises(KeyError):
        settings("no_such_setting")


@pytest.mark.parametrize("field", sorted(NUMERIC))
@pytest.mark.parametrize("text", ["abc", "1.5x", "0x10", "nan", "inf", "-1", "0", "1e99", "١٢", "12 34", "None"])
def test_a_bad_value_is_a_settings_error_naming_the_variable(field, text):
    with pytest.raises(SettingsError) as caught:
        settings(field, environ={env_name(field): text})
    error = caught.value
    assert isinstance(error, SgdeError) and error.type_name == "settings_invalid"
    assert error.field == field and error.value == text
    assert str(error).startswith(f"{env_name(field)}={text!r} is not valid: expected ")
    assert error.to_dict()["field"] == field


@pytest.mark.parametrize("field", sorted(NUMERIC))
@hypothesis_settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=30))
def test_garbage_is_either_a_value_in_bounds_or_an_error_naming_the_variable(field, text):
    low, high, integer = NUMERIC[field]
    var = env_name(field)
    try:
        value = getattr(settings(field, environ={var: text}), field)
    except SettingsError as error:
        assert var in str(error) and error.value == text and error.field == field
        assert text.strip(), "a blank value takes the default"
        return
    if not text.strip():
        assert value == getattr(Settings(), field) or field == "n_threads"
        return
    assert isinstance(value, int if integer else float) and low <= value <= high and math.isfinite(value)
    if integer:
        assert value == int(float(text.strip().replace("_", "")))
    else:
        assert value > 0 and value == float(text.strip().replace("_", ""))


@pytest.mark.parametrize("field", sorted(NUMERIC))
@given(text=st.text(st.characters(blacklist_categories=("Nd",)), min_size=1, max_size=20).filter(str.strip))
@hypothesis_settings(max_examples=60, deadline=None)
def test_text_without_digits_is_always_refused(field, text):
    with pytest.raises(SettingsError, match=re.escape(env_name(field))):
        settings(field, environ={env_name(field): text})


def test_a_settings_error_survives_pickling():
    import pickle
    with pytest.raises(SettingsError) as caught:
        settings("n_ctx", environ={"SGDE_N_CTX": "abc"})
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is SettingsError and str(again) == str(caught.value) and again.value == "abc"


def test_a_bad_value_is_exit_2_and_one_error_line_in_the_cli(tmp_path):
    """A real `sgde run` whose student needs SGDE_N_CTX: `error: ...` naming it, exit 2, no traceback."""
    plan = REPO / "tests" / "fixtures" / "frontier" / "gsmhard-0121" / "plan-m3.yaml"
    model = tmp_path / "student.gguf"
    model.write_bytes(b"GGUF")  # resolves as a model path; the bad setting stops the load before llama.cpp reads it
    done = subprocess.run([sys.executable, "-m", "sgde.compiler.cli", "run", str(plan), "--model", str(model),
                           "--input", "question=How many legs?"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SGDE_N_CTX": "abc"}, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: SGDE_N_CTX='abc' is not valid: expected a whole number of tokens from 256 to 1048576"]


def test_the_relay_refuses_a_bad_timeout_with_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sgde.compiler.teachers.relay", "--dir", str(tmp_path)],
                          input="{}", capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "SGDE_RELAY_TIMEOUT": "soon"}, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: SGDE_RELAY_TIMEOUT='soon' is not valid")
    assert not list(tmp_path.iterdir()), "nothing was written for a relay that could not start"
