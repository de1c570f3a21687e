"""The docker backend on the real engine: the container's walls, its limits and its faults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from sgde.runtime.errors import (
    MemoryLimit,
    PidsLimit,
    PolicyViolation,
    SandboxUnavailable,
    TimeoutLimit,
)
from sgde.runtime.policy import load_policy
from sgde.runtime.sandbox.docker_backend import DockerBackend, list_containers, prune_containers

pytestmark = pytest.mark.docker

#: node code that probes the container itself: plain Python, the container as the only wall
PROBE = load_policy("default").model_copy(update={
    "name": "probe", "backend": "docker", "language_guard": "none", "cpu_seconds": 2.0, "wall_seconds": 5.0,
    "memory_mb": 128, "pids": 16, "tmpfs_mb": 4, "file_size_mb": 8,
    "allowed_imports": ("os", "socket", "time", "threading", "errno")})
ALIVE = "def run(inputs):\n    return {'alive': True}\n"


@pytest.fixture
def backend(docker_image):
    with DockerBackend() as sandbox:
        yield sandbox


def probe(backend, body: str, node: str, policy=PROBE, **inputs):
    source = "import os, socket, errno\n\ndef run(inputs):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    return backend.run(source, inputs, policy, node=node).output


def _host_address() -> str:
    """An address of this machine outside the container: the docker bridge's gateway, or our own hostname."""
    out = subprocess.run(["docker", "network", "inspect", "bridge", "--format",
                          "{{(index .IPAM.Config 0).Gateway}}"], capture_output=True, text=True)
    return out.stdout.strip() or socket.gethostbyname(socket.gethostname())


def test_network_is_unreachable(backend):
    """Two walls: a call cannot even create a socket (seccomp kills it), and the container has no network."""
    with pytest.raises(PolicyViolation) as info:
        probe(backend, """
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            return {"connected": s.connect_ex((inputs["host"], 22)) == 0}
        """, "net", host=_host_address())
    assert info.value.limit == "seccomp"
    out = probe(backend, """
        with open("/proc/self/net/dev") as fh:
            return {"ifaces": sorted(line.split(":")[0].strip() for line in fh.read().splitlines()[2:])}
    """, "net")
    assert out["ifaces"] == ["lo"]
    mine = [c for c in list_containers() if c["node"] == "net" and c["owner"].endswith(f":{os.getpid()}")]
    attrs = backend.client.containers.get(mine[0]["id"]).attrs
    assert attrs["HostConfig"]["NetworkMode"] == "none" and list(attrs["NetworkSettings"]["Networks"]) == ["none"]


def test_root_is_read_only_and_scratch_is_capped(backend):
    out = probe(backend, """
        def attempt(path, size):
            try:
                with open(path, "wb") as fh:
                    fh.write(b"x" * size)
                return "written"
            except OSError as exc:
                return errno.errorcode[exc.errno]
        return {"usr": attempt("/usr/local/lib/marker", 1), "root": attempt("/marker", 1),
                "cwd": os.getcwd(), "scratch_small": attempt("small", 1024), "scratch_big": attempt("big", 6 << 20),
                "tmp_outside_scratch": attempt("/tmp/outside", 1), "shm": attempt("/dev/shm/x", 1)}
    """, "fs")
    assert out["usr"] in ("EROFS", "EACCES") and out["root"] in ("EROFS", "EACCES")
    # the call's scratch is a directory of its own under the /tmp tmpfs: writable, capped, nothing else is
    assert out["cwd"].startswith("/tmp/call-")
    assert out["scratch_small"] == "written" and out["scratch_big"] in ("ENOSPC", "EFBIG")
    assert out["tmp_outside_scratch"] == "EACCES"
    assert out["shm"] != "written"  # no /dev/shm in the container (ipc none)


def test_user_capabilities_and_privileges(backend):
    out = probe(backend, """
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
        return {"uid": os.getuid(), "gid": os.getgid(),
                "caps": {k: status[k].strip() for k in status if k.startswith("Cap")},
                "nnp": status["NoNewPrivs"].strip(), "env": sorted(os.environ)}
    """, "who")
    assert out["uid"] == 65534 and out["gid"] == 65534
    assert set(out["caps"].values()) == {"0000000000000000"}, out["caps"]
    assert out["nnp"] == "1"
    assert not [k for k in out["env"] if "proxy" in k.lower()]


def test_client_proxy_settings_do_not_reach_the_container(docker_image, tmp_path, monkeypatch):
    """The SDK copies proxies from the client's config.json into containers unless told not to."""
    (tmp_path / "config.json").write_text(json.dumps(
        {"proxies": {"default": {"httpProxy": "http://proxy.invalid:3128", "noProxy": "localhost"}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    with DockerBackend() as sandbox:
        env = probe(sandbox, "return {'env': dict(os.environ)}", "proxy")["env"]
    assert not [k for k in env if "proxy" in k.lower()], env


def test_containers_are_labelled_and_warm(backend):
    first = backend.run(ALIVE, {}, PROBE, node="warm")
    second = backend.run(ALIVE, {}, PROBE, node="warm")
    assert first.worker_started and not second.worker_started
    mine = [c for c in list_containers() if c["node"] == "warm" and c["owner"].endswith(f":{os.getpid()}")]
    assert len(mine) == 1 and mine[0]["policy"] == "probe" and mine[0]["status"] == "running"


@pytest.mark.parametrize("bomb,error,limit", [
    ("for i in range(12):\n    os.fork()\nimport time\ntime.sleep(3)\nreturn {}\n", PolicyViolation, "seccomp"),
    ("import threading, time\nts = [threading.Thread(target=time.sleep, args=(10,)) for i in range(500)]\n"
     "for t in ts:\n    t.start()\nreturn {}\n", PidsLimit, "pids"),
    ("xs = []\nwhile True:\n    xs.append(bytearray(10**6))\n", MemoryLimit, "memory_mb"),
    ("while True:\n    pass\n", TimeoutLimit, "cpu_seconds"),
    ("import time\ntime.sleep(60)\nreturn {}\n", TimeoutLimit, "wall_seconds"),
], ids=["fork bomb", "thread bomb", "memory bomb", "infinite loop", "sleep"])
def test_bombs_are_stopped_and_the_node_recovers(backend, bomb, error, limit):
    node = f"bomb-{limit}-{abs(hash(bomb)) % 1000}"
    started = time.monotonic()
    with pytest.raises(error) as info:
        probe(backend, bomb, node)
    assert info.value.limit == limit and info.value.node == node
    assert time.monotonic() - started < PROBE.wall_seconds + 3
    assert backend.run(ALIVE, {}, PROBE, node=node).output == {"alive": True}


def test_a_container_that_disappears_between_calls_is_replaced(backend):
    backend.run(ALIVE, {}, PROBE, node="vanish")
    for row in list_containers():
        if row["node"] == "vanish" and row["owner"].endswith(f":{os.getpid()}"):
            subprocess.run(["docker", "rm", "-f", row["id"]], capture_output=True, check=True)
    time.sleep(0.5)  # the attach stream ends
    again = backend.run(ALIVE, {}, PROBE, node="vanish")  # the next call gets a fresh container
    assert again.output == {"alive": True} and again.worker_started


def test_missing_image_says_how_to_build_it(docker_image):
    with DockerBackend(image="sgde-sandbox:does-not-exist") as sandbox:
        with pytest.raises(SandboxUnavailable, match="sgde sandbox build-image"):
            sandbox.run(ALIVE, {}, PROBE, node="noimage")


def test_unreachable_daemon_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with DockerBackend() as sandbox:
        with pytest.raises(SandboxUnavailable, match="not reachable.*nonexistent"):
            sandbox.run(ALIVE, {}, PROBE, node="nodaemon")


def test_required_oci_runtime_missing_is_an_error_not_a_fallback(backend):
    needs = PROBE.model_copy(update={"oci_runtime": "runsc-not-installed", "require_oci_runtime": True})
    with pytest.raises(SandboxUnavailable, match="runsc-not-installed") as info:
        backend.run(ALIVE, {}, needs, node="oci")
    assert info.value.field == "oci_runtime"
    optional = PROBE.model_copy(update={"oci_runtime": "runsc-not-installed"})
    assert backend.run(ALIVE, {}, optional, node="oci").output == {"alive": True}


def test_close_removes_containers(docker_image):
    sandbox = DockerBackend()
    sandbox.run(ALIVE, {}, PROBE, node="closing")
    sandbox.close()
    assert not [c for c in list_containers() if c["node"] == "closing" and c["owner"].endswith(f":{os.getpid()}")]


def test_interpreter_exit_removes_containers(docker_image):
    script = ("from sgde.runtime.sandbox.docker_backend import DockerBackend\n"
              "from sgde.runtime.policy import load_policy\n"
              "p = load_policy('default').model_copy(update={'backend': 'docker'})\n"
              "b = DockerBackend()\n"
              "b.run('def run(inputs):\\n    return {}\\n', {}, p, node='atexit')\n"
              "import os; print(os.getpid())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pid = out.stdout.strip()
    assert not [c for c in list_containers() if c["owner"].endswith(f":{pid}")]


def test_cli_exec_ps_prune(tmp_path, docker_image):
    node_file = tmp_path / "double.py"
    node_file.write_text("def run(inputs):\n    return {'x': inputs['a'] * 2}\n")
    cli = [sys.executable, "-m", "sgde.compiler.cli"]
    out = subprocess.run([*cli, "sandbox", "exec", str(node_file), "--backend", "docker", "--input", '{"a": 21}'],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"ok": True, "output": {"x": 42}}
    bad = tmp_path / "evil.py"
    bad.write_text("import os\ndef run(inputs):\n    return {'cwd': os.getcwd()}\n")
    out = subprocess.run([*cli, "sandbox", "exec", str(bad), "--backend", "docker"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["type"] == "compile_refused"
    built = subprocess.run([*cli, "sandbox", "build-image"], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0 and json.loads(built.stdout)["cached"] is True
    listed = subprocess.run([*cli, "sandbox", "ps"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0


def test_prune_removes_every_sgde_container(docker_image):
    sandbox = DockerBackend()
    sandbox.run(ALIVE, {}, PROBE, node="prune-me")
    assert prune_containers() >= 1
    assert not list_containers()
    sandbox.close()  # its container is already gone: close must not fail


def test_executor_runs_a_node_in_docker(docker_image):
    from sgde.runtime.executor import Executor
    from sgde.runtime.plan_io import parse_plan
    plan = parse_plan({"name": "d", "inputs": {"a": {"type": "integer"}}, "output": {"from": "sq.y"},
                       "nodes": [{"id": "sq", "kind": "code", "reads": ["a"],
                                  "source": "def run(inputs):\n    return {'y': inputs['a'] ** 2}\n",
                                  "policy_override": {"backend": "docker"}}]})
    with Executor(plan) as executor:
        result = executor.run({"a": 12})
    assert result.ok and result.output == 144
    assert result.trace[0].sandbox.backend == "docker"


def test_a_compile_with_a_docker_override_node_leaves_no_container(docker_image, tiny_student, tmp_path):
    """The scorer's executors create a docker backend lazily for the override node and close it; the
    caller's restricted backend stays open and usable."""
    from sgde.compiler.forward import Scorer
    from sgde.compiler.task import Example
    from sgde.runtime.plan_io import parse_plan
    from sgde.runtime.sandbox import make_backend

    plan = parse_plan({"name": "mixed", "inputs": {"a": {"type": "number"}},
                       "output": {"from": "boxed.value", "type": "number"},
                       "nodes": [{"id": "plain", "kind": "code", "reads": ["a"],
                                  "source": "def run(inputs):\n    return {'value': inputs['a'] + 1}\n"},
                                 {"id": "boxed", "kind": "code", "reads": ["plain"],
                                  "policy_override": {"backend": "docker"},
                                  "source": "def run(inputs):\n    return {'value': inputs['plain']['value'] * 2}\n"}]})
    restricted = make_backend("restricted")
    try:
        scorer = Scorer([Example(id="e1", input={"a": 1}, answer=4)], samples=1, seed=0, student=tiny_student,
                        policy=load_policy("default"), sandboxes={"restricted": restricted})
        score, outcomes = scorer.score(plan)
        assert score.correct == 1, outcomes
        assert not [c for c in list_containers() if c["node"] == "boxed" and c["owner"].endswith(f":{os.getpid()}")]
        alive = restricted.run("def run(inputs):\n    return {'ok': 1}\n", {}, load_policy("default"))
        assert alive.output == {"ok": 1}
    finally:
        restricted.close()
