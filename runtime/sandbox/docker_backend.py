"""The docker backend: one hardened, warm container per code node, a fresh process in it per call.

Each container runs the same runner as the restricted backend (so
RestrictedPython and the import allow-list still apply inside, unless the
policy says ``language_guard: none``; and by default a zygote forks a fresh
process for every call, with a scratch directory of its own under /tmp that
is removed when the call ends). The container adds the kernel's walls: no
network, read-only root, a size-capped tmpfs, no /dev/shm, every capability
dropped, no-new-privileges, nobody as the user, our own seccomp profile
(``sandbox_images/seccomp.json``, narrower than Docker's default), pids /
memory (swap included) / CPU limits and ulimits from the policy. Calls go
over the container's attached stdin/stdout, so a call costs a round trip,
not a container start. A runner that overran or broke the protocol is
removed; the next call gets a fresh container.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
import time
from contextlib import closing
from importlib import resources
from typing import Any

from ..errors import SandboxUnavailable
from ..policy import Policy
from ..settings import settings
from . import protocol
from .base import SandboxBackend
from .docker_image import LABEL, docker_client, expected_image
from .session import Session, Transport, build_hello
from .syscalls import SeccompUnavailable, seccomp_programs

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 30.0
_DOCKER_FRAME = struct.Struct(">BxxxI")  # attach stream multiplexing: stream type, 3 pad bytes, size
_STDERR_KEEP = 65536


def seccomp_profile() -> str:
    """The container's seccomp profile, as shipped (a reviewer reads exactly what is applied)."""
    return resources.files("sgde.sandbox_images").joinpath("seccomp.json").read_text(encoding="utf-8")


def _ulimits(policy: Policy) -> list[Any]:
    from docker.types import Ulimit
    return [Ulimit(name="nofile", soft=policy.open_files, hard=policy.open_files),
            Ulimit(name="fsize", soft=policy.file_size_mb << 20, hard=policy.file_size_mb << 20),
            Ulimit(name="core", soft=0, hard=0)]


def container_config(image: str, policy: Policy, node: str, runtime: str | None) -> dict[str, Any]:
    """Every hardening flag in one place, so a reviewer reads them together."""
    tmpfs = {"/tmp": f"rw,noexec,nosuid,nodev,size={policy.tmpfs_mb}m,mode=1777"} if policy.tmpfs_mb else {}
    config: dict[str, Any] = dict(
        image=image, command=["--in-container"],
        stdin_open=True, tty=False, detach=True,
        network_mode="none", read_only=policy.read_only_root, tmpfs=tmpfs,
        ipc_mode="none",  # no /dev/shm: a read-only root would still leave it writable
        cap_drop=["ALL"], security_opt=["no-new-privileges", f"seccomp={seccomp_profile()}"], user="65534:65534",
        pids_limit=policy.pids, mem_limit=f"{policy.memory_mb}m", memswap_limit=f"{policy.memory_mb}m",
        nano_cpus=int(policy.cpus * 1e9), ulimits=_ulimits(policy),
        environment={}, working_dir="/tmp" if policy.tmpfs_mb else "/",
        labels={LABEL: "sandbox", f"{LABEL}.node": node, f"{LABEL}.policy": policy.name, f"{LABEL}.image": image,
                f"{LABEL}.owner": f"{socket.gethostname()}:{os.getpid()}"},
    )
    if runtime:
        config["runtime"] = runtime
    return config


class AttachTransport(Transport):
    """One container, spoken to over its attached stdin/stdout (stderr kept for diagnostics)."""

    def __init__(self, container: Any, sock: Any, attached: Any, node: str) -> None:
        super().__init__()
        self.container, self.sock, self.attached, self.node = container, sock, attached, node
        self.raw = bytearray()  # attach bytes not yet split into docker frames
        self.stderr = bytearray()
        self.gone = False  # removed from outside (not by us)

    def send(self, data: bytes, deadline: float) -> bool:
        view = memoryview(data)
        try:
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                _, ready, _ = select.select([], [self.sock], [], min(left, 0.05))
                if ready:
                    try:
                        view = view[self.sock.send(view, socket.MSG_DONTWAIT):]  # what fits now, never blocks
                    except BlockingIOError:
                        pass
        except OSError:
            self._state()  # was it removed from outside?
            raise
        return True

    def _demux(self) -> None:
        while len(self.raw) >= _DOCKER_FRAME.size:
            stream, size = _DOCKER_FRAME.unpack(bytes(self.raw[:_DOCKER_FRAME.size]))
            if len(self.raw) < _DOCKER_FRAME.size + size:
                return
            payload = bytes(self.raw[_DOCKER_FRAME.size:_DOCKER_FRAME.size + size])
            del self.raw[:_DOCKER_FRAME.size + size]
            if stream == 1:
                self.reader.feed(payload)
            elif len(self.stderr) < _STDERR_KEEP:
                self.stderr += payload

    def _receive(self, timeout: float) -> bool | None:
        """Wait up to ``timeout`` for bytes; True if some came, False if none, None at end of stream."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = self.sock.recv(1 << 20)
        except OSError:
            chunk = b""
        if not chunk:
            return None
        self.raw += chunk
        self._demux()
        return True

    def _state(self) -> dict[str, Any] | None:
        import docker
        try:
            self.container.reload()
            deadline = time.monotonic() + 5
            while self.container.attrs["State"].get("Running") and time.monotonic() < deadline:
                time.sleep(0.05)
                self.container.reload()
            state: dict[str, Any] = self.container.attrs["State"]
            return state
        except docker.errors.NotFound:
            self.gone = True
            return None

    def exit_code(self) -> int | None:
        state = self._state()
        if state is None:
            return None
        if state.get("OOMKilled"):
            return 128 + 11  # reported as the memory limit, like a process the kernel killed for memory
        return state.get("ExitCode")

    def ended(self) -> str:
        if self.gone:
            return (f"the sandbox container of node {self.node!r} disappeared between calls (removed outside "
                    "sgde?); the next call starts a fresh one")
        detail = self.stderr.decode(errors="replace")[-300:]
        return f"the sandbox container's runner ended without a reply{': ' + detail if detail else ''}"

    def kill(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception:  # already gone, or the daemon went away: nothing left to clean here
            pass
        for handle in (self.attached, self.sock):
            try:
                handle.close()
            except Exception:
                pass


class DockerBackend(SandboxBackend):
    name = "docker"

    def __init__(self, image: str | None = None, *, testing_disable: frozenset[str] | set[str] = frozenset()) -> None:
        super().__init__(testing_disable=testing_disable)
        if "os_wall" in self.testing_disable:
            raise ValueError("the docker backend's OS wall is the container; it cannot be switched off")
        self._client = None
        self._image = image or settings("sandbox_image").sandbox_image
        self._runtimes: set[str] | None = None

    @property
    def client(self) -> Any:
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

    def walls_in_force(self, session: Session) -> dict[str, Any]:
        walls = super().walls_in_force(session)
        policy = session.policy
        walls.update(container=True, netns=policy.network == "none", mountns=True, pidns=True,
                     ipcns=True, utsns=True, empty_root=False, userns=False)
        return walls

    def _start(self, node: str, policy: Policy, isolation: str) -> Session:
        import docker
        image, runtime = self.image(), self._runtime(policy, node)
        guard = "off" if "language_guard" in self.testing_disable else policy.language_guard
        try:
            seccomp = seccomp_programs()
        except SeccompUnavailable:
            seccomp = None
        hello = build_hello(policy, isolation, guard=guard, os_wall=True, seccomp=seccomp, in_container=True)
        client = self.client
        try:
            # the SDK would inject the client's proxy settings into the container
            container = client.containers.create(use_config_proxy=False,
                                                 **container_config(image, policy, node, runtime))
        except docker.errors.ImageNotFound:
            raise SandboxUnavailable(f"sandbox image {image} not found; build it with `sgde sandbox build-image`",
                                     node=node, field="image") from None
        except docker.errors.APIError as exc:
            raise SandboxUnavailable(f"cannot create a sandbox container: {exc.explanation or exc}",
                                     node=node) from None
        transport = None
        try:
            attached = client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                                      "stream": 1})
            # the SDK hands back a SocketIO wrapper on unix sockets; select() and sendall need the socket
            transport = AttachTransport(container, getattr(attached, "_sock", attached), attached, node)
            container.start()
            transport.send(protocol.encode(hello), time.monotonic() + _START_TIMEOUT_S)
            frame = transport.read_frame(time.monotonic() + _START_TIMEOUT_S, 1 << 20, lambda: None)
            ready = protocol.decode_json(frame) if isinstance(frame, bytes) else frame
        except docker.errors.APIError as exc:
            ready = f"cannot start: {exc.explanation or exc}"
        except Exception as exc:  # an undecodable ready message, a socket error
            ready = f"{type(exc).__name__}: {exc}"
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            detail = transport.stderr.decode(errors="replace")[-500:] if transport is not None else ""
            if transport is not None:
                transport.kill()
            else:
                container.remove(force=True)
            raise SandboxUnavailable(f"the sandbox container did not start ({ready}){': ' + detail if detail else ''}",
                                     node=node)
        assert transport is not None  # a ready reply came through it
        return Session(transport, policy, isolation, node, ready)

    def close(self) -> None:
        super().close()
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
