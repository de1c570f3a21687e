"""Shared fixtures: real models, real sandboxes, isolated scratch dirs."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


#: the recorded compiles CI replays: the README's first command's, one more, and one for the 135M (rest: --replay-all)
CI_REPLAYS = ("gsmhard-0121-m3", "gsmhard-0204-m1", "gsmhard-0126-smollm2-135m-m3")


def pytest_addoption(parser):
    parser.addoption("--replay-all", action="store_true",
                     help="replay every recorded frontier compile (CI replays only CI_REPLAYS; see "
                          "benchmarks/replay_all.py)")


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip) the long replays CI does not run, unless --replay-all."""
    if config.getoption("--replay-all"):
        return
    keep, dropped = [], []
    for item in items:
        replay = item.originalname == "test_replaying_a_recorded_compile_gives_the_byte_identical_plan"
        (dropped if replay and item.callspec.id not in CI_REPLAYS else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


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
def installed_model():
    """Installs a known model by name and gives its path (in CI a missing one fails; elsewhere it skips)."""
    return _model_or_skip


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


# --- Docker ------------------------------------------------------------------------

def _docker_or_skip():
    from sgde.runtime.errors import SandboxUnavailable
    from sgde.runtime.sandbox.docker_image import docker_client
    try:
        return docker_client()
    except SandboxUnavailable as exc:
        if IN_CI:  # CI has a daemon: its absence is a failure, never a skip
            pytest.fail(f"Docker is required in CI: {exc}")
        pytest.skip(f"no Docker daemon: {exc}")


@pytest.fixture(scope="session")
def docker_client_real():
    client = _docker_or_skip()
    yield client
    client.close()


@pytest.fixture(scope="session")
def docker_image(docker_client_real):
    """The sandbox image, built (or found in the cache) once per session."""
    from sgde.runtime.sandbox.docker_image import build_image
    return build_image(docker_client_real)


@pytest.fixture(scope="session", autouse=True)
def _no_leaked_containers():
    """After the whole session, no sandbox container this test process started may remain (other processes on
    the same daemon, e.g. a second pytest run, own theirs)."""
    yield
    from sgde.runtime.errors import SandboxUnavailable
    from sgde.runtime.sandbox.docker_image import docker_client
    try:
        client = docker_client()
    except SandboxUnavailable:
        return  # no daemon: nothing can have leaked (and the docker tests already failed in CI)
    with closing(client):
        leaked = [f"{c.name} ({c.labels.get('sgde.node')})"
                  for c in client.containers.list(all=True, filters={"label": "sgde=sandbox"})
                  if c.labels.get("sgde.owner", "").endswith(f":{os.getpid()}")]
    assert not leaked, f"sandbox containers leaked: {leaked}"
