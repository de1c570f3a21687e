"""Sandboxes for code nodes: pick a backend by name.

Kept import-light: the runner (``sandbox.runner``) is started without
importing the rest of sgde, and a backend's dependencies load only when it is
used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SandboxUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from .base import SandboxBackend, SandboxResult

__all__ = ["SandboxBackend", "SandboxResult", "make_backend"]


def make_backend(name: str) -> "SandboxBackend":
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


def __getattr__(name: str) -> object:
    if name in ("SandboxBackend", "SandboxResult"):
        from . import base
        return getattr(base, name)
    raise AttributeError(name)
