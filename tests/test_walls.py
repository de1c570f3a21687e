"""Two walls, each proven alone (issue #11), on both backends.

- **The OS wall alone**: node code runs with the language guard switched off (the test-only
  ``testing_disable={"language_guard"}``: plain ``exec`` in the same runner or container, with the modules
  an attacker holding native code could reach already imported). Every attack of both red-team corpora and
  of the OS corpus (``tests/redteam_os``) runs, and the host shows no effect: no process started, no
  connection to its listeners, no write outside the sandbox's scratch directory, no read of a canary file
  under the host user's home or of a canary variable in the parent's environment, no signal to the test
  process. Each call ends with a typed error or harmlessly, and the next call on the node works.
- **The language guard alone**: the restricted backend with its OS wall switched off (``os_wall``): every
  attack behaves as its header says, every legitimate program runs, and every poison/victim pair run in one
  warm process leaves the victim's answer exactly as it is alone.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import time
from pathlib import Path

import pytest

from sgde.runtime.errors import CompileRefused, LimitExceeded, PolicyViolation, SandboxError, WallMissing
from sgde.runtime.policy import IMPORTABLE_MODULES, load_policy
from sgde.runtime.sandbox.docker_backend import DockerBackend
from sgde.runtime.sandbox.restricted import RestrictedBackend
from tests.conftest import REPO
from tests.redteam_corpus import _parse, load_cases, pairs

POLICY = load_policy("default").model_copy(update={
    "name": "walls", "cpu_seconds": 1.0, "wall_seconds": 4.0, "memory_mb": 256, "output_bytes": 65536,
    "allowed_imports": tuple(sorted(IMPORTABLE_MODULES)), "tmpfs_mb": 4})
ALIVE = "def run(inputs):\n    return {'alive': True}\n"
ATTACKS = [case for case in load_cases(("inproc", "both", "docker")) if case.is_attack]
OS_CASES = [_parse(path) for path in sorted((REPO / "tests" / "redteam_os").glob("*.py"))]
BACKENDS = [pytest.param("restricted", id="restricted"), pytest.param("docker", id="docker", marks=pytest.mark.docker)]


class Host:
    """What the host holds that node code must never reach, and the means to see whether it did."""

    def __init__(self, tmp: Path) -> None:
        self.token = secrets.token_hex(8)
        self.canary_secret = f"canary-file-{secrets.token_hex(8)}"
        self.env_secret = f"canary-env-{secrets.token_hex(8)}"
        self.canary = Path.home() / f".sgde-canary-{self.token}"
        self.canary.write_text(self.canary_secret)
        self.canary.chmod(0o600)
        os.environ["SGDE_TEST_CANARY"] = self.env_secret  # in the parent, before any runner starts
        self.marker_dir = tmp / "markers"
        self.marker_dir.mkdir()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        self.unix_path = str(tmp / "host.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        self.unix.listen(8)
        self.unix.setblocking(False)
        self.signals: list[int] = []
        self._old = signal.signal(signal.SIGUSR1, lambda signum, frame: self.signals.append(signum))

    def inputs(self) -> dict:
        return {"canary_path": str(self.canary), "canary_env": "SGDE_TEST_CANARY",
                "marker": str(self.marker_dir / f"marker-{self.token}"), "marker_dir": str(self.marker_dir),
                "port": self.tcp.getsockname()[1], "unix_socket": self.unix_path, "host_pid": os.getpid(),
                "token": self.token}

    def effects(self, seen_text: str) -> list[str]:
        """Everything the host can observe that should not have happened."""
        found = []
        if list(self.marker_dir.iterdir()):
            found.append(f"files written in the host's marker dir: {list(self.marker_dir.iterdir())}")
        for stray in (Path("/tmp") / f"sgde-marker-{self.token}", Path.home() / f".sgde-marker-{self.token}"):
            if stray.exists():
                found.append(f"file written on the host: {stray}")
        for name, listener in (("tcp", self.tcp), ("unix", self.unix)):
            try:
                conn, _ = listener.accept()
                conn.close()
                found.append(f"a connection reached the host's {name} listener")
            except BlockingIOError:
                pass
        if self.signals:
            found.append(f"the test process received signals {self.signals}")
        for secret in (self.canary_secret, self.env_secret):
            if secret in seen_text:
                found.append(f"a canary came back: {secret}")
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and self.token.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(f"a process carrying the token runs on the host: {pid}")
            except OSError:
                pass
        return found

    def close(self) -> None:
        signal.signal(signal.SIGUSR1, self._old)
        os.environ.pop("SGDE_TEST_CANARY", None)
        self.canary.unlink(missing_ok=True)
        self.tcp.close()
        self.unix.close()


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    watch = Host(tmp_path_factory.mktemp("host"))
    yield watch
    watch.close()


def _backend(name: str, disable: set[str]):
    if name == "docker":
        return DockerBackend(testing_disable=disable)
    return RestrictedBackend(testing_disable=disable)


@pytest.fixture(scope="module")
def unguarded(request, host):
    """One backend of each kind with the language guard switched off (created after the host's canaries)."""
    made = {}

    def get(name: str):
        if name == "docker":
            request.getfixturevalue("docker_image")
        if name not in made:
            made[name] = _backend(name, {"language_guard"})
        return made[name]
    yield get
    for backend in made.values():
        backend.close()


def _outcome(backend, source: str, inputs: dict, node: str) -> tuple[str, str]:
    """(what happened, all the text that came back)"""
    started = time.monotonic()
    try:
        result = backend.run(source, inputs, POLICY.model_copy(update={"backend": backend.name}), node=node)
    except SandboxError as exc:
        assert exc.node == node
        assert time.monotonic() - started < POLICY.wall_seconds + 3
        return exc.type_name, json.dumps(exc.to_dict())
    return "ran", json.dumps(result.output) + result.stdout


def _os_wall_holds(backend, host: Host, case_id: str, source: str, inputs: dict) -> str:
    outcome, text = _outcome(backend, source, inputs, node="attacks")
    time.sleep(0.05)  # a forked child or a delayed write would land by now (the fork case sleeps 0.5 s)
    effects = host.effects(text)
    assert not effects, f"{case_id} reached the host: {effects}"
    assert backend.run(ALIVE, {}, POLICY.model_copy(update={"backend": backend.name}),
                       node="attacks").output == {"alive": True}
    return outcome


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", OS_CASES, ids=lambda c: c.id)
def test_os_wall_alone_stops_direct_attempts_on_the_host(unguarded, host, backend_name, case):
    backend = unguarded(backend_name)
    outcome = _os_wall_holds(backend, host, case.id, case.source, host.inputs())
    if case.id == "os_fork_child":
        time.sleep(0.7)  # the child would write its marker after 0.5 s
        assert not host.effects(""), "a forked child acted after its call ended"
    assert outcome in ("ran", "policy_violation", "node_raised", "timeout", "memory", "pids", "compile_refused")


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("syscall", ["setuid", "unshare", "mount", "memfd_create", "io_uring_setup", "chroot",
                                     "ptrace", "socket", "execve"])
def test_os_wall_alone_refuses_each_native_syscall(unguarded, host, backend_name, syscall):
    """Native code asking the kernel directly (ctypes here; a CPython memory bug in the wild)."""
    case = next(c for c in OS_CASES if c.id == "os_native_syscalls")
    backend = unguarded(backend_name)
    policy = POLICY.model_copy(update={"backend": backend_name})
    try:
        result = backend.run(case.source, {**host.inputs(), "only": syscall}, policy, node="native")
    except PolicyViolation as exc:
        assert exc.limit == "seccomp"  # killed on the spot
    else:
        code, err = result.output["seen"][syscall]
        assert code == -1 and err in (1, 13, 38), result.output  # EPERM, EACCES, ENOSYS
    assert not host.effects("")


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", ATTACKS, ids=lambda c: c.id)
def test_os_wall_alone_contains_every_corpus_attack(unguarded, host, backend_name, case):
    """With no language guard at all, escapes of the guard 'work' inside the sandbox; the host sees nothing."""
    _os_wall_holds(unguarded(backend_name), host, case.id, case.source, json.loads(json.dumps(case.inputs)))


def test_the_corpora_are_present():
    assert len(OS_CASES) >= 9 and len(ATTACKS) >= 120


# --- the language guard alone ------------------------------------------------------------------

@pytest.fixture(scope="module")
def guard_only():
    backend = RestrictedBackend(testing_disable={"os_wall"})
    yield backend
    backend.close()


def test_guard_only_runner_really_has_no_os_wall(guard_only):
    walls = guard_only.probe_walls(POLICY)["walls"]
    assert walls["language_guard"] is True
    assert not any(walls.get(w) for w in ("seccomp", "landlock", "netns", "pidns", "empty_root"))


GUARD_CASES = load_cases(("inproc", "both"))


@pytest.mark.parametrize("case", GUARD_CASES, ids=lambda c: c.id)
def test_language_guard_alone_behaves_as_each_header_says(guard_only, host, case):
    policy = POLICY.model_copy(update={"isolation": "per_node"})  # one warm process: the hardest case
    try:
        result = guard_only.run(case.source, json.loads(json.dumps(case.inputs)), policy, node="guard",
                                reviewed=True)
    except SandboxError as exc:
        assert case.expect != "ok", f"over-blocked a legitimate program: {exc.to_dict()}"
        if case.expect == "reject":
            assert isinstance(exc, (CompileRefused, PolicyViolation)), exc.to_dict()
        if case.expect == "limit":
            assert isinstance(exc, (LimitExceeded, CompileRefused, PolicyViolation)), exc.to_dict()
        assert not host.effects(json.dumps(exc.to_dict()))
        return
    assert result.output.get("escaped") is not True, f"ESCAPE: {result.output}"
    assert not host.effects(json.dumps(result.output) + result.stdout)
    if case.expect == "ok":
        assert result.output == case.expected_output


@pytest.mark.parametrize("isolation", ["per_node", "per_call"])
@pytest.mark.parametrize("pair", pairs(load_cases(("both",))), ids=lambda p: p[0].id)
def test_language_guard_alone_keeps_calls_apart(guard_only, pair, isolation):
    """A poison call, then its victim, on the same node of the same runner: the victim answers as if alone."""
    poison, victim = pair
    policy = POLICY.model_copy(update={"isolation": isolation})
    node = f"pair-{isolation}"
    try:
        guard_only.run(poison.source, {}, policy, node=node, reviewed=True)
    except SandboxError:
        pass
    assert guard_only.run(victim.source, {}, policy, node=node, reviewed=True).output == victim.expected_output


@pytest.mark.parametrize("case", OS_CASES, ids=lambda c: c.id)
def test_language_guard_alone_refuses_the_os_corpus(guard_only, host, case):
    with pytest.raises((CompileRefused, PolicyViolation)):
        guard_only.run(case.source, host.inputs(), POLICY, node="guard-os")
    assert not host.effects("")


def test_a_policy_that_requires_a_missing_wall_refuses(guard_only):
    """Without its OS wall the runner lacks what `strict` requires: the node is refused, it never runs.
    (This is also why the tests that run under `strict` fail, not skip, on a CI host without the walls.)"""
    strict = load_policy("strict")
    with pytest.raises(WallMissing) as info:
        guard_only.run(ALIVE, {}, strict, node="needs-walls")
    assert info.value.field == "require" and "seccomp" in info.value.value and info.value.node == "needs-walls"
    assert "sgde sandbox doctor" in info.value.message
