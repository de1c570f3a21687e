"""`sgde.runtime` is the library API: the README's example runs, and importing it stays cheap."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

import sgde.runtime
from sgde.runtime.plan_io import load_plan
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
#: the README's `legs.yaml` is byte for byte this recorded plan (its first command says so)
LEGS = REPO / "tests" / "fixtures" / "frontier" / "gsmhard-0121" / "plan-m3.yaml"
HEAVY = ("llama_cpp", "docker", "cryptography")


def _example() -> str:
    """The first python block of the README's "Library API" section."""
    section = README.split("### Library API\n", 1)[1].split("\n#", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]


def _imported_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return eval(done.stdout.strip().splitlines()[-1])  # a printed list of str


def test_importing_the_runtime_loads_no_heavy_dependency():
    assert _imported_after("import sgde.runtime") == []


def test_importing_every_public_name_loads_no_heavy_dependency():
    """Names resolve lazily; llama.cpp, the Docker SDK and cryptography load only when used."""
    assert _imported_after("from sgde.runtime import *\nimport sgde.runtime as r\n"
                           "[getattr(r, n) for n in r.__all__]") == []


def test_every_public_name_resolves_and_is_the_defining_modules():
    from sgde.runtime.executor import Executor
    from sgde.runtime.sandbox import make_backend
    assert sgde.runtime.__version__
    assert sorted(sgde.runtime.__all__) == sorted(["__version__", *sgde.runtime._EXPORTS])
    for name in sgde.runtime.__all__:
        assert getattr(sgde.runtime, name) is not None, name
        assert name in dir(sgde.runtime)
    assert sgde.runtime.Executor is Executor and sgde.runtime.make_backend is make_backend
    with pytest.raises(AttributeError):
        sgde.runtime.no_such_name  # noqa: B018


def test_the_readme_example_plan_is_the_recorded_one():
    assert 'load_plan("legs.yaml")' in _example() and LEGS.is_file()
    assert "byte for byte the recorded\n`tests/fixtures/frontier/gsmhard-0121/plan-m3.yaml`" in README


@pytest.mark.model
def test_the_readme_library_example_runs(tmp_path, tiny_model_path):
    """The README's example, verbatim, on its plan; the 135M student stands in for the default so it takes
    seconds (its answer is wrong, so only the shape of what it prints is checked)."""
    shutil.copy(LEGS, tmp_path / "legs.yaml")
    env = {**os.environ, "SGDE_MODEL": str(tiny_model_path), "SGDE_N_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", _example()], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].split(" ", 1)[0] in ("True", "False")
    nodes = [node.id for node in load_plan(LEGS).nodes]
    printed = [line.split(" ", 1)[0] for line in lines[1:]]
    assert printed and printed == nodes[:len(printed)], lines
    assert all(line.split(" ")[1] in ("llm", "code", "consensus") for line in lines[1:])
