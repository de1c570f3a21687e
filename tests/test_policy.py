"""Policies: shipped files load, overrides only ever tighten."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgde.runtime.errors import PolicyError
from sgde.runtime.policy import IMPORTABLE_MODULES, Policy, PolicyOverride, builtin_policy_names, load_policy, tighten

DEFAULT = load_policy("default")

overrides = st.fixed_dictionaries({}, optional={
    "backend": st.sampled_from(["restricted", "docker"]),
    "language_guard": st.sampled_from(["restricted", "none"]),
    "cpu_seconds": st.floats(0.01, 20),
    "wall_seconds": st.floats(0.01, 40),
    "memory_mb": st.integers(32, 2048),
    "output_bytes": st.integers(64, 1 << 22),
    "allowed_imports": st.lists(st.sampled_from(sorted(IMPORTABLE_MODULES)), unique=True).map(tuple),
    "pids": st.integers(1, 256),
    "read_only_root": st.booleans(),
    "tmpfs_mb": st.integers(0, 64),
    "open_files": st.integers(8, 256),
    "file_size_mb": st.integers(0, 8),
    "cpus": st.floats(0.1, 4),
})


def test_shipped_policies_load_and_strict_tightens_default():
    assert {"default", "strict"} <= set(builtin_policy_names())
    strict = load_policy("strict")
    assert tighten(DEFAULT, strict) == strict
    with pytest.raises(PolicyError, match="loosened"):
        tighten(strict, DEFAULT)
    assert set(DEFAULT.allowed_imports) == {"math", "fractions", "decimal", "statistics", "re", "itertools",
                                            "functools", "datetime", "json"}


@given(overrides)
def test_an_accepted_override_is_never_looser(changes):
    try:
        result = tighten(DEFAULT, PolicyOverride(**changes), node="n")
    except PolicyError as exc:
        assert exc.node == "n" and exc.field.startswith("policy_override")
        return
    for field in ("cpu_seconds", "wall_seconds", "memory_mb", "output_bytes", "pids", "tmpfs_mb", "open_files",
                  "file_size_mb", "cpus"):
        assert getattr(result, field) <= getattr(DEFAULT, field), field
    assert set(result.allowed_imports) <= set(DEFAULT.allowed_imports)
    assert result.read_only_root or not DEFAULT.read_only_root
    assert result.language_guard == "restricted"  # the default keeps the language guard on


@given(overrides)
def test_a_loosening_override_is_refused(changes):
    loosening = {k: v for k, v in changes.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                 and v > getattr(DEFAULT, k)}
    if not loosening:
        return
    with pytest.raises(PolicyError):
        tighten(DEFAULT, PolicyOverride(**changes))


@pytest.mark.parametrize("text,message", [
    ("name: x\ncpu_seconds: 1\n", "wall_seconds"),
    ("[1]", "mapping"),
    ("name: x\nbackend: restricted\ncpu_seconds: 1\nwall_seconds: 2\nmemory_mb: 64\noutput_bytes: 100\n"
     "allowed_imports: [os]\n", "os"),
    ("name: x\ncpu_seconds: 1\nwall_seconds: 2\nmemory_mb: 64\noutput_bytes: 100\nallowed_imports: []\n"
     "surprise: 1\n", "surprise"),
])
def test_bad_policy_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_unknown_policy_name():
    with pytest.raises(PolicyError, match="unknown policy 'lax'"):
        load_policy("lax")


def test_policy_from_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\ncpu_seconds: 1\nwall_seconds: 2\nmemory_mb: 128\noutput_bytes: 1000\n"
                    "allowed_imports: [math]\n")
    policy = load_policy(path)
    assert isinstance(policy, Policy) and policy.allowed_imports == ("math",)
    assert tighten(DEFAULT, policy) == policy


def test_language_guard_none_needs_docker_and_cannot_be_gained_by_override():
    with pytest.raises(ValueError, match="only allowed with backend: docker"):
        Policy.model_validate({**DEFAULT.model_dump(), "language_guard": "none"})
    docker = DEFAULT.model_copy(update={"backend": "docker"})
    with pytest.raises(PolicyError, match="language_guard"):
        tighten(docker, PolicyOverride(language_guard="none"))
    plain = Policy.model_validate({**docker.model_dump(), "language_guard": "none",
                                   "allowed_imports": ["os", "socket"]})
    assert tighten(plain, PolicyOverride(language_guard="restricted", allowed_imports=())).language_guard == \
        "restricted"
    with pytest.raises(ValueError, match="other modules only with backend: docker"):
        Policy.model_validate({**DEFAULT.model_dump(), "allowed_imports": ["os"]})
