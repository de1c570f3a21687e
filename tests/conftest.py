"""Shared fixtures: real models, real sandboxes, isolated scratch dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Tests write only under their tmp dir; traces and runs never land in the repo."""
    monkeypatch.chdir(tmp_path)


def _model_or_skip(name: str) -> Path:
    from sgde.runtime.errors import ModelError
    from sgde.runtime.student.models import install_model
    try:
        return install_model(name)
    except ModelError as exc:
        if IN_CI:  # CI installs every model; a missing one is a failure there, never a skip
            pytest.fail(f"model {name} missing in CI: {exc}")
        pytest.skip(f"model {name} not installed: {exc}")


@pytest.fixture(scope="session")
def tiny_model_path() -> Path:
    return _model_or_skip("smollm2-135m")


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    return _model_or_skip("qwen2.5-coder-1.5b")


@pytest.fixture(scope="session")
def tiny_student(tiny_model_path):
    from sgde.runtime.student.llama import LlamaStudent
    student = LlamaStudent(tiny_model_path, n_ctx=2048)
    yield student
    student.close()
