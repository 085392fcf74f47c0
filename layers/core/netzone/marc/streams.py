"""Byte streams as the readers take them: read in chunks, in full, with peeked bytes put back."""

from __future__ import annotations

import io
from typing import Protocol

CHUNK = 1 << 16  # what a reader reads at a time


class Readable(Protocol):
    """What the readers need of a stream: `read` (a plain or gzip file, an S3 body)."""

    def read(self, size: int = ..., /) -> bytes: ...


class Chained(io.RawIOBase):
    """A raw stream that replays already-read bytes before the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: Readable):
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        return super().read(size) or b""  # never None: `readinto` always has an answer

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def buffered(prefix: bytes, stream: Readable) -> io.BufferedReader:
    """`stream` with `prefix` put back before it, buffered in chunks."""
    return io.BufferedReader(Chained(prefix, stream), CHUNK)


def read_up_to(stream: Readable, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end of the stream (raw and gzip reads may be short)."""
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        data = stream.read(wanted)
        if not data:
            break
        parts.append(data)
        wanted -= len(data)
    return b"".join(parts)
