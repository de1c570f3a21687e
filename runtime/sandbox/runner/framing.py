"""Frames on the runner's pipes: a 4-byte big-endian length, then the body.

Used on both sides of every hop (host <-> zygote <-> call process). Reads are
blocking and bounded: a frame over its cap is refused before its body is read.
The zygote relays bodies it never parses through fixed buffers
(`read_frame_into`) that it wipes afterwards, so no earlier call's inputs or
results linger in memory that a later call's process is forked from.
"""

from __future__ import annotations

import json
import os
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmap import mmap

HEADER = struct.Struct(">I")


class FrameError(Exception):
    """The peer closed the pipe, or sent a frame over the cap."""


def encode(message: dict[str, Any]) -> bytes:
    """ASCII JSON (non-ASCII escaped): text with a lone surrogate still encodes."""
    body = json.dumps(message, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    return HEADER.pack(len(body)) + body


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise FrameError("the pipe closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, cap: int) -> bytes:
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    if size > cap:
        raise FrameError(f"a frame of {size} bytes is over the cap of {cap}")
    return read_exact(fd, size)


def read_message(fd: int, cap: int) -> dict[str, Any]:
    message = json.loads(read_frame(fd, cap))
    if type(message) is not dict:
        raise FrameError("a frame that is not a JSON object")
    return message


def read_frame_into(fd: int, buffer: bytearray | mmap, offset: int = 0) -> int:
    """Read one frame's body into ``buffer`` at ``offset`` (no intermediate copies); return its length."""
    view = memoryview(buffer)
    header = bytearray(HEADER.size)
    _fill(fd, memoryview(header))
    size: int
    (size,) = HEADER.unpack(header)
    if offset + size > len(buffer):
        raise FrameError(f"a frame of {size} bytes is over the cap of {len(buffer) - offset}")
    _fill(fd, view[offset:offset + size])
    return size


def _fill(fd: int, view: memoryview) -> None:
    while view:
        got = os.readv(fd, [view])
        if not got:
            raise FrameError("the pipe closed")
        view = view[got:]


def wipe(buffer: bytearray | mmap, size: int) -> None:
    """Overwrite the first ``size`` bytes in place (the buffer is never reallocated)."""
    if size:
        memoryview(buffer)[:size] = bytes(size)
