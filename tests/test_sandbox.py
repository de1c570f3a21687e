"""Both sandbox backends against the shared red-team corpus, their limits and the RestrictedPython traps.

Tests that take the `sandbox` fixture run once per backend; the docker runs
need the real engine (marked `docker`; in CI a missing daemon fails them).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgde.runtime.errors import (
    CompileRefused,
    InputError,
    InvalidOutput,
    LimitExceeded,
    MemoryLimit,
    NodeRaised,
    OutputTooLarge,
    PolicyViolation,
    SandboxError,
    TimeoutLimit,
)
from sgde.runtime.policy import IMPORTABLE_MODULES, load_policy
from sgde.runtime.sandbox import make_backend
from tests.conftest import REPO
from tests.redteam_corpus import load_cases

#: the corpora import every module a policy may ever allow
BASE_POLICY = load_policy("default").model_copy(update={
    "name": "redteam", "cpu_seconds": 1.0, "wall_seconds": 3.0, "memory_mb": 256, "output_bytes": 65536,
    "allowed_imports": tuple(sorted(IMPORTABLE_MODULES))})
LAYERS = {"restricted": ("inproc", "both"), "docker": ("docker", "both")}
BACKENDS = [pytest.param("restricted", id="restricted"),
            pytest.param("docker", id="docker", marks=pytest.mark.docker)]
CASES = load_cases(("inproc", "both", "docker"))


@pytest.fixture(scope="module", params=BACKENDS)
def sandbox(request):
    if request.param == "docker":
        request.getfixturevalue("docker_image")  # built once per session (fails in CI without a daemon)
    backend = make_backend(request.param)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def shared_sandboxes():
    """One backend of each kind for the whole corpus, created on first use."""
    class Lazy(dict):
        def __missing__(self, name):
            self[name] = make_backend(name)
            return self[name]
    backends = Lazy()
    yield backends
    for backend in backends.values():
        backend.close()


def policy_for(sandbox, **updates):
    return BASE_POLICY.model_copy(update={"backend": sandbox.name, **updates})


def test_corpus_is_present():
    assert len(CASES) >= 60, "the red-team corpus is missing or was not parsed"


@pytest.mark.parametrize("backend,case", [
    pytest.param(backend.values[0], case, id=f"{backend.values[0]}-{case.id}", marks=backend.marks)
    for backend in BACKENDS for case in CASES if case.layer in LAYERS[backend.values[0]]])
def test_redteam_case_behaves_as_its_header_says(request, backend, case):
    if backend == "docker":
        request.getfixturevalue("docker_image")
    sandbox = request.getfixturevalue("shared_sandboxes")[backend]
    policy = BASE_POLICY.model_copy(update={"backend": backend})
    inputs = json.loads(json.dumps(case.inputs))
    started = time.monotonic()
    try:  # one node for the whole corpus, as a run over many inputs: every call in a fresh process anyway
        result = sandbox.run(case.source, inputs, policy, node="corpus")
    except SandboxError as exc:
        elapsed = time.monotonic() - started
        assert exc.node == "corpus"
        if case.expect == "ok":
            pytest.fail(f"over-blocked a legitimate program: {exc.to_dict()}")
        elif case.expect == "reject":
            assert isinstance(exc, (CompileRefused, PolicyViolation)), exc.to_dict()
        elif case.expect == "limit":
            assert isinstance(exc, (LimitExceeded, CompileRefused, PolicyViolation)), exc.to_dict()
            if isinstance(exc, LimitExceeded):
                assert exc.limit in ("cpu_seconds", "wall_seconds", "memory_mb", "output_bytes"), exc.to_dict()
        else:
            assert case.expect == "error"
        assert elapsed < policy.wall_seconds + 2.0
        return
    assert result.output.get("escaped") is not True, f"ESCAPE: {result.output}"
    assert case.expect == "ok", f"expected {case.expect}, but it ran and returned {result.output}"
    assert result.output == case.expected_output
    assert inputs == case.inputs  # the host's inputs are never mutated by the node


def test_seeded_random_state_does_not_leak_into_the_next_run(sandbox):
    seed = "import random\ndef run(inputs):\n    random.seed(1234)\n    return {'ok': True}\n"
    draw = "import random\ndef run(inputs):\n    return {'r': random.random()}\n"
    sandbox.run(seed, {}, policy_for(sandbox), node="rng")
    after = sandbox.run(draw, {}, policy_for(sandbox), node="rng").output["r"]
    assert after != random.Random(1234).random()


# --- limits: stop within the limit plus a margin, and the next call works -----------

LIMITS = {"cpu_seconds": 1.0, "wall_seconds": 2.0, "memory_mb": 128, "output_bytes": 4096}
FOLLOW_UP = "def run(inputs):\n    return {'alive': True}\n"
BOMBS = {
    "python loop": ("def run(inputs):\n    while True:\n        pass\n", TimeoutLimit, "cpu_seconds"),
    "C loop": ("def run(inputs):\n    return {'n': sum(range(10**13))}\n", TimeoutLimit, "cpu_seconds"),
    "swallowed timeout": ("def run(inputs):\n    while True:\n        try:\n            while True:\n"
                          "                pass\n        except BaseException:\n            continue\n",
                          TimeoutLimit, "cpu_seconds"),
    "memory": ("def run(inputs):\n    xs = []\n    while True:\n        xs.append('x' * 10**6)\n", MemoryLimit,
               "memory_mb"),
    "big string": ("def run(inputs):\n    return {'s': 'a' * 10**9}\n", MemoryLimit, "memory_mb"),
    "result too big": ("def run(inputs):\n    return {'s': 'a' * 100000}\n", OutputTooLarge, "output_bytes"),
    "print flood": ("def run(inputs):\n    while True:\n        print('x' * 1000)\n", OutputTooLarge,
                    "output_bytes"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bombs_stop_within_their_limit_and_the_node_recovers(sandbox, name):
    source, error, limit = BOMBS[name]
    LIMITED = policy_for(sandbox, **LIMITS)  # noqa: N806
    started = time.monotonic()
    with pytest.raises(error) as info:
        sandbox.run(source, {}, LIMITED, node=f"bomb-{name}")
    elapsed = time.monotonic() - started
    # the docker runner has no host-side CPU poll: RLIMIT_CPU (whole seconds) or the wall clock stops it
    allowed = {limit, "wall_seconds"} if limit == "cpu_seconds" and sandbox.name == "docker" else {limit}
    assert info.value.limit in allowed and info.value.node == f"bomb-{name}"
    # RLIMIT_CPU counts whole seconds; the host polls CPU every 50 ms; a container takes ~0.5 s to start
    margin = 1.5 + (1.0 if sandbox.name == "docker" else 0.0)
    assert elapsed < (LIMITED.cpu_seconds if limit == "cpu_seconds" else LIMITED.wall_seconds) + margin
    assert sandbox.run(FOLLOW_UP, {}, LIMITED, node=f"bomb-{name}").output == {"alive": True}


def test_wall_clock_limit_kills_a_sleeping_worker(sandbox):
    # a blocking C call that uses no CPU: only the host's wall clock can stop it
    source = ("import re\ndef run(inputs):\n    return {'m': bool(re.match('(a+)+$', 'a' * 40 + 'b'))}\n")
    policy = policy_for(sandbox, **{**LIMITS, "cpu_seconds": 5.0, "wall_seconds": 1.0})
    started = time.monotonic()
    with pytest.raises(TimeoutLimit) as info:
        sandbox.run(source, {}, policy, node="wall")
    assert info.value.limit in ("wall_seconds", "cpu_seconds") and time.monotonic() - started < 2.5
    assert sandbox.run(FOLLOW_UP, {}, policy, node="wall").output == {"alive": True}


def test_print_is_captured_and_truncation_flagged(sandbox):
    source = "def run(inputs):\n    for i in range(100):\n        print('line', i)\n    return {'n': 1}\n"
    policy = policy_for(sandbox, **{**LIMITS, "output_bytes": 100})
    result = sandbox.run(source, {}, policy, node="print")
    assert result.stdout.startswith("line 0\nline 1\n") and len(result.stdout) == 100 and result.stdout_truncated
    small = sandbox.run("def run(inputs):\n    print('hi')\n    return {}\n", {}, policy, node="print")
    assert small.stdout == "hi\n" and not small.stdout_truncated


# --- the RestrictedPython traps the issue names --------------------------------------

def _refused(sandbox, source, *, policy=None, node="trap"):
    with pytest.raises((CompileRefused, PolicyViolation)) as info:
        sandbox.run(source, {}, policy or policy_for(sandbox), node=node)
    return info.value


@pytest.mark.parametrize("chain", ["fractions.sys.modules['os']", "json.codecs.builtins.open",
                                   "statistics.sys", "re.enum", "math.__dict__", "datetime.sys"])
def test_module_facades_do_not_leak_sys_or_builtins(sandbox, chain):
    module = chain.split(".")[0]
    err = _refused(sandbox, f"import {module}\ndef run(inputs):\n    return {{'x': str({chain})}}\n")
    assert "not available" in err.message or "not allowed" in err.message or "invalid attribute" in err.message


@pytest.mark.parametrize("name", ["'__cla' + 'ss__'", "'gi_' + 'frame'", "'_' + 'os'", "'f_globals'",
                                  "'tb_frame'", "'mro'"])
def test_computed_getattr_is_guarded(sandbox, name):
    source = ("import random\ndef g():\n    yield 1\ndef run(inputs):\n"
              f"    return {{'x': str(getattr(g(), {name}, None)), 'y': str(getattr(random, {name}, None))}}\n")
    _refused(sandbox, source)


def test_format_goes_through_the_guards(sandbox):
    ok = ("def run(inputs):\n    return {'a': '{}-{x}'.format(1, x=2), 'b': '{0[k]}'.format({'k': 3}),"
          " 'c': '{n}'.format_map({'n': 4}), 'd': str.format('{}', 5)}\n")
    assert sandbox.run(ok, {}, policy_for(sandbox), node="fmt").output == {"a": "1-2", "b": "3", "c": "4", "d": "5"}
    for template in ("'{0.__class__}'.format(1)", "'{a._x}'.format_map({'a': 1})",
                     "str.format('{0.__class__.__mro__}', 1)"):
        _refused(sandbox, f"def run(inputs):\n    return {{'x': {template}}}\n")


def test_private_attributes_only_on_own_objects(sandbox):
    ok = ("class Acc:\n    def __init__(self):\n        self._total = 0\n    def _add(self, v):\n"
          "        self._total += v\n        return self._total\n"
          "def run(inputs):\n    a = Acc()\n    a._add(2)\n    return {'t': a._add(3)}\n")
    assert sandbox.run(ok, {}, policy_for(sandbox), node="priv").output == {"t": 5}
    _refused(sandbox, "from fractions import Fraction\ndef run(inputs):\n"
                      "    return {'n': Fraction(1, 2)._numerator}\n")


def test_metaclass_and_type_tricks_are_refused(sandbox):
    _refused(sandbox, "def run(inputs):\n    T = type('T', (object,), {})\n    return {}\n")
    _refused(sandbox, "class M(type):\n    pass\ndef run(inputs):\n    return {}\n")


def test_imports_outside_the_policy_are_refused_at_compile_time(sandbox):
    strict = load_policy("strict").model_copy(update={"backend": sandbox.name})
    err = _refused(sandbox, "import re\ndef run(inputs):\n    return {}\n", policy=strict)
    assert isinstance(err, CompileRefused) and "'re'" in err.message and "allowed" in err.message
    for source in ("from . import os\n", "from math import *\n", "import os.path\n"):
        assert isinstance(_refused(sandbox, source + "def run(inputs):\n    return {}\n"), CompileRefused)


def test_node_errors_are_typed(sandbox):
    with pytest.raises(NodeRaised) as info:
        sandbox.run("def run(inputs):\n    return {'x': 1 / 0}\n", {}, policy_for(sandbox), node="zero")
    assert info.value.value == "ZeroDivisionError" and "line 2" in info.value.message
    with pytest.raises(InvalidOutput, match="not a JSON"):
        sandbox.run("def run(inputs):\n    return {'x': {1, 2}}\n", {}, policy_for(sandbox), node="set")
    with pytest.raises(InvalidOutput, match="must return a dict"):
        sandbox.run("def run(inputs):\n    return [1]\n", {}, policy_for(sandbox), node="list")
    with pytest.raises(InvalidOutput, match="digits"):
        sandbox.run("def run(inputs):\n    return {'x': 7 ** 10000}\n", {}, policy_for(sandbox), node="bigint")
    assert sandbox.run("def run(inputs):\n    return {'x': 7 ** 100}\n", {}, policy_for(sandbox),
                       node="bigint").output == {"x": 7 ** 100}
    with pytest.raises(InvalidOutput, match="nan"):
        sandbox.run("def run(inputs):\n    return {'x': float('nan')}\n", {}, policy_for(sandbox), node="nan")
    with pytest.raises(CompileRefused, match="SyntaxError"):
        sandbox.run("def run(inputs)\n    return {}\n", {}, policy_for(sandbox), node="syntax")
    with pytest.raises(CompileRefused, match="does not define run"):
        sandbox.run("x = 1\n", {}, policy_for(sandbox), node="norun")
    with pytest.raises(InputError):
        sandbox.run(FOLLOW_UP, {"x": float("inf")}, policy_for(sandbox), node="badinput")


def test_errors_cross_the_process_boundary_intact():
    import pickle
    err = TimeoutLimit("slow", node="n", limit="cpu_seconds", value=1.0)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is TimeoutLimit and back.to_dict() == err.to_dict()


def test_check_compiles_without_running(sandbox):
    sandbox.check("def run(inputs):\n    while True:\n        pass\n", policy_for(sandbox), node="check")
    with pytest.raises(CompileRefused):
        sandbox.check("import os\ndef run(inputs):\n    return {}\n", policy_for(sandbox), node="check")


# --- properties ----------------------------------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=10)
                           | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                                          max_size=4),
                           max_leaves=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_any_json_object_round_trips_through_an_identity_node(sandbox, inputs):
    result = sandbox.run("def run(inputs):\n    return inputs\n", inputs, policy_for(sandbox), node="identity")
    assert result.output == inputs


OPS = ["+=", "-=", "*=", "//=", "%=", "|=", "^=", "&="]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(OPS), st.integers(1, 50)),
                min_size=1, max_size=8))
def test_augmented_assignment_rewrite_matches_cpython(sandbox, steps):
    body = "".join(f"    d[{k!r}] {op} {v}\n    o.n {op} {v}\n    xs[1:2] += [{v}]\n" for k, op, v in steps)
    source = ("class O:\n    def __init__(self):\n        self.n = 7\n"
              "def run(inputs):\n    d = {'a': 100, 'b': 200, 'c': 300}\n    o = O()\n    xs = [0, 1]\n"
              f"{body}    return {{'d': d, 'n': o.n, 'xs': xs}}\n")
    namespace: dict = {}
    exec(compile(source, "<expected>", "exec"), namespace)  # noqa: S102 - our own generated test program
    assert sandbox.run(source, {}, policy_for(sandbox), node="aug").output == namespace["run"]({})


def _process(pid: int) -> tuple[str, str, bytes] | None:
    """(start time, state, cmdline) of a live process, None once it is gone (a zombie is gone: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return None
    state, start = fields[0].decode(), fields[19].decode()
    return None if state in ("Z", "X") else (start, state, cmdline)


def _worker_pids() -> set[tuple[int, str]]:
    """Live sandbox runners as (pid, start time): a pid the kernel reuses is another process."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            seen = _process(int(entry))
            # restricted runners only: a Docker runner's processes are visible here too, and a container of an
            # earlier test forks its next spare whenever it likes
            if seen is not None and b"sgde_runner" in seen[2] and b"--in-container" not in seen[2]:
                found.add((int(entry), seen[0]))
    return found


def test_restricted_workers_end_with_the_interpreter():
    """The runner, its zygote and its spare: all gone once the interpreter that started them exits."""
    script = ("from sgde.runtime.sandbox import make_backend\nfrom sgde.runtime.policy import load_policy\n"
              "import os\n"
              "def _worker_pids():\n"
              "    return {int(p) for p in os.listdir('/proc') if p.isdigit() and os.path.exists(f'/proc/{p}/cmdline')"
              " and b'sgde_runner' in open(f'/proc/{p}/cmdline', 'rb').read()"
              " and b'--in-container' not in open(f'/proc/{p}/cmdline', 'rb').read()}\n"
              "b = make_backend('restricted')\n"
              "b.run('def run(inputs):\\n    return {}\\n', {}, load_policy('default'), node='exit')\n"
              "print(' '.join(f'{p}:' + open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[19]"
              " for p in sorted(_worker_pids())))\n")
    before = _worker_pids()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    printed = {(int(pid), start) for pid, start in (item.split(":") for item in out.stdout.split())}
    started = printed - before
    # the runner and its zygote (the zygote forks the next call's spare after the reply: it may not exist yet)
    assert len(started) >= 2, f"expected the runner and its zygote: {started}"
    deadline = time.monotonic() + 10
    while started & _worker_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {pid: _process(pid) for pid, _ in started & _worker_pids()}
    assert not left, f"runners outlived the interpreter that started them: {left}"
