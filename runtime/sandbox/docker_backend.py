"""The docker backend: one hardened, warm container per code node.

Each container runs the same worker as the restricted backend (so
RestrictedPython and the import allow-list still apply inside, unless the
policy says ``language_guard: none``), and adds the kernel's walls: no
network, read-only root, a size-capped tmpfs, no /dev/shm, every capability
dropped, no-new-privileges, nobody as the user, pids / memory (swap included)
/ CPU limits and ulimits from the policy. Calls go over the container's
attached stdin/stdout, so a call costs a round trip, not a container start.
A wall-clock overrun removes the container; the next call gets a fresh one.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import closing
import select
import socket
import struct
import threading
import time
from typing import Any

from ..errors import (MemoryLimit, OutputTooLarge, PidsLimit, SandboxCrashed, SandboxUnavailable, TimeoutLimit)
from ..policy import Policy
from . import protocol
from .base import SandboxBackend, raise_for_reply
from .docker_image import LABEL, docker_client, expected_image

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 30.0
_LIFETIME_CPU_S = 600
_DOCKER_FRAME = struct.Struct(">BxxxI")  # attach stream multiplexing: stream type, 3 pad bytes, size
_SIGXCPU_EXIT = 128 + 24


def _ulimits(policy: Policy):
    from docker.types import Ulimit
    return [Ulimit(name="nofile", soft=policy.open_files, hard=policy.open_files),
            Ulimit(name="fsize", soft=policy.file_size_mb << 20, hard=policy.file_size_mb << 20),
            Ulimit(name="core", soft=0, hard=0)]


def container_config(image: str, policy: Policy, node: str, runtime: str | None) -> dict[str, Any]:
    """Every hardening flag in one place, so a reviewer reads them together."""
    tmpfs = {"/tmp": f"rw,noexec,nosuid,nodev,size={policy.tmpfs_mb}m,mode=1777"} if policy.tmpfs_mb else {}
    config: dict[str, Any] = dict(
        image=image, command=[str(policy.memory_mb), str(_LIFETIME_CPU_S), "--in-container"],
        stdin_open=True, tty=False, detach=True,
        network_mode="none", read_only=policy.read_only_root, tmpfs=tmpfs,
        ipc_mode="none",  # no /dev/shm: a read-only root would still leave it writable
        cap_drop=["ALL"], security_opt=["no-new-privileges"], user="65534:65534",
        pids_limit=policy.pids, mem_limit=f"{policy.memory_mb}m", memswap_limit=f"{policy.memory_mb}m",
        nano_cpus=int(policy.cpus * 1e9), ulimits=_ulimits(policy),
        environment={}, working_dir="/tmp",
        labels={LABEL: "sandbox", f"{LABEL}.node": node, f"{LABEL}.policy": policy.name, f"{LABEL}.image": image,
                f"{LABEL}.owner": f"{socket.gethostname()}:{os.getpid()}"},
    )
    if runtime:
        config["runtime"] = runtime
    return config


class _Container:
    """One warm container for one (node, policy), spoken to over its attached stdin/stdout."""

    def __init__(self, client, image: str, policy: Policy, node: str, runtime: str | None) -> None:
        import docker
        self.client, self.policy, self.node = client, policy, node
        self.lock = threading.Lock()
        self.cpu_total = 0.0
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._pending = bytearray()  # raw attach bytes not yet split into docker frames
        try:
            # the SDK would inject the client's proxy settings into the container
            self.container = client.containers.create(use_config_proxy=False,
                                                      **container_config(image, policy, node, runtime))
            attached = client.api.attach_socket(self.container.id,
                                                params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            # the SDK hands back a SocketIO wrapper on unix sockets; select() and sendall need the socket
            self.sock = getattr(attached, "_sock", attached)
            self._attached = attached
            self.container.start()
        except docker.errors.ImageNotFound:
            raise SandboxUnavailable(f"sandbox image {image} not found; build it with `sgde sandbox build-image`",
                                     node=node, field="image") from None
        except docker.errors.APIError as exc:
            self.remove()
            raise SandboxUnavailable(f"cannot start a sandbox container: {exc.explanation or exc}",
                                     node=node) from None
        ready = self._read(time.monotonic() + _START_TIMEOUT_S, 4096)
        if not isinstance(ready, dict) or not ready.get("ready"):
            detail = self._stderr.decode(errors="replace")[-500:]
            self.remove()
            raise SandboxUnavailable(f"the sandbox container did not start ({ready}): {detail}", node=node)

    def remove(self) -> None:
        container = getattr(self, "container", None)
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:  # already gone, or the daemon went away: nothing left to clean here
                pass
        for handle in (getattr(self, "_attached", None), getattr(self, "sock", None)):
            try:
                handle.close()
            except Exception:
                pass

    def _read(self, deadline: float, max_bytes: int) -> Any:
        """One protocol frame from the container's stdout before ``deadline``, or a str tag."""
        while True:
            frame = self._next_frame(max_bytes)
            if frame is not None:
                return frame
            now = time.monotonic()
            if now >= deadline:
                return "wall"
            ready, _, _ = select.select([self.sock], [], [], deadline - now)
            if not ready:
                return "wall"
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                return "eof"
            self._pending += chunk
            self._demux()
            if len(self._stdout) > max_bytes + protocol.HEADER.size:
                return "too_big"

    def _demux(self) -> None:
        while len(self._pending) >= _DOCKER_FRAME.size:
            stream, size = _DOCKER_FRAME.unpack(bytes(self._pending[:_DOCKER_FRAME.size]))
            if len(self._pending) < _DOCKER_FRAME.size + size:
                return
            payload = bytes(self._pending[_DOCKER_FRAME.size:_DOCKER_FRAME.size + size])
            del self._pending[:_DOCKER_FRAME.size + size]
            if stream == 1:
                self._stdout += payload
            elif len(self._stderr) < 65536:
                self._stderr += payload

    def _next_frame(self, max_bytes: int) -> Any:
        if len(self._stdout) < protocol.HEADER.size:
            return None
        (size,) = protocol.HEADER.unpack(bytes(self._stdout[:protocol.HEADER.size]))
        if size > max_bytes:
            return "too_big"
        if len(self._stdout) < protocol.HEADER.size + size:
            return None
        body = bytes(self._stdout[protocol.HEADER.size:protocol.HEADER.size + size])
        del self._stdout[:protocol.HEADER.size + size]
        return json.loads(body)

    def call(self, request: dict[str, Any]) -> tuple[dict[str, Any], float]:
        policy, node = self.policy, self.node
        started = time.monotonic()
        try:
            self.sock.sendall(protocol.encode(request))
        except OSError:
            raise self._gone() from None
        reply = self._read(started + policy.wall_seconds, 3 * policy.output_bytes + 65536)
        elapsed = time.monotonic() - started
        if isinstance(reply, dict):
            self.cpu_total = reply.get("cpu_total", self.cpu_total)
            return reply, elapsed
        if reply == "wall":
            self.remove()
            raise TimeoutLimit(f"the code ran past the wall-clock limit of {policy.wall_seconds:g} s; its container "
                               "was removed", node=node, limit="wall_seconds", value=policy.wall_seconds)
        if reply == "too_big":
            self.remove()
            raise OutputTooLarge(f"the result passed the output limit of {policy.output_bytes} bytes",
                                 node=node, limit="output_bytes", value=policy.output_bytes)
        state = self._state()  # the runner exited: read why before the container goes
        self.remove()
        if state is None:
            raise self._gone()
        if state.get("OOMKilled"):
            raise MemoryLimit(f"the container was killed for using more than {policy.memory_mb} MiB",
                              node=node, limit="memory_mb", value=policy.memory_mb)
        code = state.get("ExitCode")
        if code == _SIGXCPU_EXIT:
            raise TimeoutLimit(f"the code used more than {policy.cpu_seconds:g} CPU seconds and was killed",
                               node=node, limit="cpu_seconds", value=policy.cpu_seconds)
        detail = self._stderr.decode(errors="replace")[-300:]
        raise SandboxCrashed(f"the sandbox runner exited with status {code}{': ' + detail if detail else ''}",
                             node=node)

    def _state(self) -> dict[str, Any] | None:
        import docker
        try:
            self.container.reload()
            deadline = time.monotonic() + 5
            while self.container.attrs["State"].get("Running") and time.monotonic() < deadline:
                time.sleep(0.05)
                self.container.reload()
            return self.container.attrs["State"]
        except docker.errors.NotFound:
            return None

    def _gone(self) -> SandboxCrashed:
        return SandboxCrashed(f"the sandbox container of node {self.node!r} disappeared between calls (removed "
                              "outside sgde?); the next call starts a fresh one", node=self.node)


class DockerBackend(SandboxBackend):
    name = "docker"

    def __init__(self, image: str | None = None) -> None:
        self._client = None
        self._image = image or os.environ.get("SGDE_SANDBOX_IMAGE")
        self._containers: dict[tuple[str, Policy], _Container] = {}
        self._lock = threading.Lock()
        self._runtimes: set[str] | None = None

    @property
    def client(self):
        if self._client is None:
            self._client = docker_client()
        return self._client

    def image(self) -> str:
        if self._image is None:
            tag = expected_image(self.client)
            if tag is None:
                raise SandboxUnavailable("the sandbox image is not built; build it with `sgde sandbox build-image`",
                                         field="image")
            self._image = tag
        return self._image

    def _runtime(self, policy: Policy, node: str) -> str | None:
        if not policy.oci_runtime:
            return None
        if self._runtimes is None:
            self._runtimes = set((self.client.info().get("Runtimes") or {}).keys())
        if policy.oci_runtime in self._runtimes:
            return policy.oci_runtime
        if policy.require_oci_runtime:
            raise SandboxUnavailable(f"policy {policy.name!r} requires the OCI runtime {policy.oci_runtime!r}, but "
                                     f"the engine has only {sorted(self._runtimes)}; install it (gVisor: runsc) "
                                     "and register it with dockerd, or drop require_oci_runtime",
                                     node=node, field="oci_runtime")
        log.warning("OCI runtime %s not available; node %s runs under the engine's default runtime",
                    policy.oci_runtime, node)
        return None

    def _container(self, node: str, policy: Policy) -> tuple[_Container, bool]:
        key = (node, policy)
        with self._lock:
            container = self._containers.get(key)
            if container is not None and container.cpu_total + policy.cpu_seconds + 2 < _LIFETIME_CPU_S:
                return container, False
            if container is not None:
                container.remove()
            container = self._containers[key] = _Container(self.client, self.image(), policy, node,
                                                           self._runtime(policy, node))
            return container, True

    def _exchange(self, request: dict[str, Any], policy: Policy, node: str) -> tuple[dict[str, Any], float, bool]:
        container, started = self._container(node, policy)
        with container.lock:
            try:
                reply, elapsed = container.call(request)
            except (TimeoutLimit, MemoryLimit, OutputTooLarge, SandboxCrashed):
                self._discard(node, policy, container)  # already removed by call(); forget it
                raise
        try:
            raise_for_reply(reply, node)
        except PidsLimit:
            self._discard(node, policy, container)  # stray children may still hold pids: start clean
            raise
        return reply, elapsed, started

    def _discard(self, node: str, policy: Policy, container: _Container) -> None:
        with self._lock:
            if self._containers.get((node, policy)) is container:
                del self._containers[(node, policy)]
        container.remove()

    def close(self) -> None:
        with self._lock:
            containers, self._containers = list(self._containers.values()), {}
        for container in containers:
            container.remove()
        if self._client is not None:
            self._client.close()
            self._client = None


def list_containers() -> list[dict[str, str]]:
    """sgde's sandbox containers on this engine (any owner)."""
    with closing(docker_client()) as client:
        out = []
        for container in client.containers.list(all=True, filters={"label": f"{LABEL}=sandbox"}):
            labels = container.labels
            out.append({"id": container.short_id, "name": container.name, "status": container.status,
                        "node": labels.get(f"{LABEL}.node", ""), "policy": labels.get(f"{LABEL}.policy", ""),
                        "owner": labels.get(f"{LABEL}.owner", ""), "image": labels.get(f"{LABEL}.image", "")})
        return out


def prune_containers() -> int:
    """Remove every sgde sandbox container; returns how many."""
    count = 0
    with closing(docker_client()) as client:
        for container in client.containers.list(all=True, filters={"label": f"{LABEL}=sandbox"}):
            try:
                container.remove(force=True)
                count += 1
            except Exception:  # removed concurrently: it is gone either way
                pass
    return count
