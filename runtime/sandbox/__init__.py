"""Sandboxes for code nodes: pick a backend by name."""

from __future__ import annotations

from ..errors import SandboxUnavailable
from .base import SandboxBackend, SandboxResult

__all__ = ["SandboxBackend", "SandboxResult", "make_backend"]


def make_backend(name: str) -> SandboxBackend:
    """A boring factory: backends import lazily, so a missing extra only bites its user."""
    match name:
        case "restricted":
            from .restricted import RestrictedBackend
            return RestrictedBackend()
        case "docker":
            from .docker_backend import DockerBackend
            return DockerBackend()
        case _:
            raise SandboxUnavailable(f"unknown sandbox backend {name!r} (known: restricted, docker)", field="backend")
