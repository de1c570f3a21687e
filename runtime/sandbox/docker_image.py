"""The per-node sandbox image, built from what this machine has (no registry needed).

Two layers:

1. A base holding only this machine's own CPython: the interpreter, the
   standard library (tests, GUI, packaging and the C extensions we never need
   such as ctypes, ssl, sqlite stripped) and the shared libraries `ldd` says
   they load, imported with `docker import`. No package manager, no shell.
   Building it takes seconds and it is small; a debootstrapped Debian rootfs
   would take minutes and carry a shell, apt and coreutils we do not want.
2. `sandbox_images/Dockerfile` on top (its BASE is a build argument, so users
   with a registry can use python:3.11-slim instead): the node runner and
   RestrictedPython, run as nobody.

Both are tagged with a hash of their inputs, so a changed runner means a new
tag and building twice with no change is a cache hit.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import SandboxUnavailable

IMAGE_REPO = "sgde-sandbox"
BASE_REPO = "sgde-hostpython"
LABEL = "sgde"
#: bump when the way the base is laid out changes, so an old base is not reused
_BASE_FORMAT = 3
_STDLIB_SKIP_DIRS = {"test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
                     "site-packages", "dist-packages", "distutils", "venv", "unittest", "sqlite3",
                     "curses", "dbm", "xmlrpc", "wsgiref", "msilib"}
#: C extensions node code never needs; leaving them out also leaves out libssl, libsqlite, ...
#: (_ctypes stays: the runner loads its seccomp filter and Landlock rules through it)
_DYNLOAD_SKIP = re.compile(r"^(_tkinter|_test|xx|_curses|readline|_dbm|_gdbm|nis|_sqlite3|_ssl|_hashlib|"
                           r"_crypt|_lzma|_bz2|_uuid|pyexpat|_elementtree|_multiprocessing|audioop|ossaudiodev|"
                           r"spwd|_posixshmem)")


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    base: str
    seconds: float
    cached: bool
    size_bytes: int


def docker_client() -> Any:
    """A client for the local engine, or SandboxUnavailable saying how to fix it."""
    try:
        import docker
    except ImportError:
        raise SandboxUnavailable("the docker backend needs the docker SDK: pip install 'sgde[docker]'",
                                 field="backend") from None
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    fix = "start it (e.g. `sudo systemctl start docker`) or point DOCKER_HOST at it"
    if host.startswith("unix://") and not os.path.exists(host[len("unix://"):]):
        # checked here: the SDK leaks the socket of a failed unix connect
        raise SandboxUnavailable(f"the Docker daemon is not reachable at {host} (no such socket); {fix}",
                                 field="backend")
    client = None
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:  # the SDK raises a zoo of requests/urllib3/docker errors here
        if client is not None:
            client.close()
        raise SandboxUnavailable(f"the Docker daemon is not reachable at {host} ({type(exc).__name__}); {fix}",
                                 field="backend") from None
    return client


def _image_exists(client: Any, tag: str) -> bool:
    import docker
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


# --- layer 1: this machine's Python --------------------------------------------

def _python_files() -> list[tuple[Path, str]]:
    """(host path, path inside the image) for the interpreter and the pruned standard library."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    prefix = Path(sys.base_prefix)
    binary = prefix / "bin" / f"python{version}"
    if not binary.is_file():
        binary = Path(os.path.realpath(sys.executable))
    stdlib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "installed_base": sys.base_prefix})["stdlib"])
    files = [(binary, "usr/local/bin/python3")]
    for root, dirs, names in os.walk(stdlib):
        rel_root = Path(root).relative_to(stdlib)
        dirs[:] = sorted(d for d in dirs if d not in _STDLIB_SKIP_DIRS and not d.startswith("config-"))
        for name in sorted(names):
            if rel_root.name == "lib-dynload" and _DYNLOAD_SKIP.match(name):
                continue
            if name.endswith((".py", ".pyc", ".so")):
                files.append((Path(root) / name, f"usr/local/lib/python{version}/{rel_root / name}"))
    libs = _shared_libraries([host for host, _ in files if host.suffix == ".so" or host == binary])
    files += [(lib, f"usr/local/lib/{lib.name}") for lib in libs if "ld-linux" not in lib.name]
    files += [(lib, str(lib).lstrip("/")) for lib in libs if "ld-linux" in lib.name]
    return files


def _shared_libraries(objects: list[Path]) -> list[Path]:
    found: dict[str, Path] = {}
    for obj in objects:
        out = subprocess.run(["ldd", str(obj)], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            match = re.search(r"(/\S+)\s+\(0x", line)
            if match:
                found[match.group(1)] = Path(match.group(1))
    return sorted(found.values())


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 0
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 0
    tar.addfile(info)


def _host_base() -> tuple[str, list[tuple[Path, str]]]:
    """The tag the host-Python base must have, and its files."""
    files = _python_files()
    digest = hashlib.sha256(f"{_BASE_FORMAT}\0{sys.version}".encode())
    for host, inside in files:
        stat = host.stat()
        digest.update(f"{inside}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return f"{BASE_REPO}:{digest.hexdigest()[:16]}", files


def ensure_host_base(client: Any) -> str:
    """Import (once) a base image holding this machine's Python; returns its tag."""
    tag, files = _host_base()
    if _image_exists(client, tag):
        return tag
    with tempfile.NamedTemporaryFile(suffix=".tar") as handle:
        # dereference: the loader and most libraries are symlinks on the host
        with tarfile.open(fileobj=handle, mode="w", dereference=True) as tar:
            for directory in ("tmp", "etc", "usr", "usr/local", "usr/local/bin", "usr/local/lib"):
                _add_dir(tar, directory, 0o1777 if directory == "tmp" else 0o755)
            _add_bytes(tar, "etc/passwd", b"root:x:0:0:root:/root:/nonexistent\n"
                                          b"nobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n")
            _add_bytes(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
            for host, inside in files:
                tar.add(str(host), arcname=inside, recursive=False)
        handle.flush()
        name, version = tag.split(":")
        client.api.import_image_from_file(handle.name, repository=name, tag=version, changes=[
            "ENV PATH=/usr/local/bin LD_LIBRARY_PATH=/usr/local/lib", f"LABEL {LABEL}=base"])
    return tag


# --- layer 2: the runner --------------------------------------------------------

def _context_files() -> dict[str, bytes]:
    """The Dockerfile, the runner package (as sgde_runner) and RestrictedPython."""
    files = {"Dockerfile": resources.files("sgde.sandbox_images").joinpath("Dockerfile").read_bytes()}
    runner = Path(__file__).resolve().parent / "runner"
    for path in sorted(runner.glob("*.py")):
        files[f"opt/sgde_runner/{path.name}"] = path.read_bytes()
    import RestrictedPython
    rp_root = Path(RestrictedPython.__file__).resolve().parent
    for path in sorted(rp_root.rglob("*.py")):
        files[f"opt/RestrictedPython/{path.relative_to(rp_root)}"] = path.read_bytes()
    return files


def image_tag(base: str, base_id: str) -> str:
    digest = hashlib.sha256(f"{base}\0{base_id}\n".encode())
    for name, data in sorted(_context_files().items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:16]}"


def expected_image(client: Any, base: str | None = None) -> str | None:
    """The tag of the sandbox image for the current runner, or None when its base is not built yet."""
    base = base or _host_base()[0]
    if not _image_exists(client, base):
        return None
    return image_tag(base, client.images.get(base).id)


def build_image(client: Any = None, base: str | None = None, force: bool = False) -> BuiltImage:
    """Build the sandbox image (and, without ``base``, the host-Python base first)."""
    import docker
    if client is None:
        with closing(docker_client()) as own:
            return build_image(own, base, force)
    started = time.perf_counter()
    try:
        base = base or ensure_host_base(client)
        base_id = client.images.get(base).id if _image_exists(client, base) else ""
        tag = image_tag(base, base_id)
        if _image_exists(client, tag) and not force:
            return BuiltImage(tag, base, time.perf_counter() - started, True, client.images.get(tag).attrs["Size"])
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, data in sorted(_context_files().items()):
                _add_bytes(tar, name, data)
        context.seek(0)
        image, _ = client.images.build(fileobj=context, custom_context=True, tag=tag, buildargs={"BASE": base},
                                       rm=True, forcerm=True, pull=False, labels={LABEL: "sandbox"})
    except docker.errors.BuildError as exc:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in exc.build_log)[-2000:]
        raise SandboxUnavailable(f"building the sandbox image failed: {exc.msg}\n{log}") from None
    except docker.errors.DockerException as exc:
        raise SandboxUnavailable(f"building the sandbox image failed: {exc}") from None
    return BuiltImage(tag, base, time.perf_counter() - started, False, image.attrs["Size"])
