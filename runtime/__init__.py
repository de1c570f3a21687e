"""sgde runtime: the plan IR, the DAG executor, students and sandboxes.

Running a plan needs the plan file, a student model and a policy; nothing here
imports the compiler.

This package is sgde's library API (see the README's "Library API")::

    from sgde.runtime import Executor, load_plan

    with Executor(load_plan("legs.yaml")) as executor:
        result = executor.run({"question": "..."})

The names below are imported on first use, so ``import sgde.runtime`` stays
cheap: llama.cpp loads when a student is made, the Docker SDK when a docker
sandbox is, ``cryptography`` when a key is read.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module (under sgde.runtime) that defines it
_EXPORTS: dict[str, str] = {
    # plans
    "Plan": "plan", "load_plan": "plan_io", "loads_plan": "plan_io", "parse_plan": "plan_io",
    "save_plan": "plan_io", "check_plan": "plan_io",
    # running them
    "Executor": "executor", "RunResult": "executor", "TraceRecord": "trace", "TraceWriter": "trace",
    # policies and sandboxes
    "Policy": "policy", "load_policy": "policy", "make_backend": "sandbox", "SandboxBackend": "sandbox",
    # students
    "Student": "student", "Generation": "student", "LlamaStudent": "student.llama",
    "install_model": "student.models",
    # approval
    "require_approval": "approval", "load_trusted_keys": "approval", "Check": "approval",
    # settings and errors
    # (the function that reads the environment is sgde.runtime.settings.settings: the module has its name)
    "Settings": "settings", "SettingsError": "settings", "SgdeError": "errors",
}

__all__ = [  # the names of _EXPORTS (tests/test_library_api.py checks), spelled out for linters
    "Check", "Executor", "Generation", "LlamaStudent", "Plan", "Policy", "RunResult", "SandboxBackend", "Settings",
    "SettingsError", "SgdeError", "Student", "TraceRecord", "TraceWriter", "__version__", "check_plan",
    "install_model", "load_plan", "load_policy", "load_trusted_keys", "loads_plan", "make_backend", "parse_plan",
    "require_approval", "save_plan",
]

if TYPE_CHECKING:  # pragma: no cover - what the lazy names are, for type checkers and editors
    from .approval import Check, load_trusted_keys, require_approval
    from .errors import SgdeError
    from .executor import Executor, RunResult
    from .plan import Plan
    from .plan_io import check_plan, load_plan, loads_plan, parse_plan, save_plan
    from .policy import Policy, load_policy
    from .sandbox import SandboxBackend, make_backend
    from .settings import Settings, SettingsError
    from .student import Generation, Student
    from .student.llama import LlamaStudent
    from .student.models import install_model
    from .trace import TraceRecord, TraceWriter


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
