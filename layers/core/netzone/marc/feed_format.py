"""Opening a feed: compression and format told from the content, not the file name."""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO, Literal, cast

from netzone.marc.streams import CHUNK, Chained, Readable, buffered, read_up_to

FeedFormat = Literal["iso2709", "marcxml", "marc-json", "kbart"]
MarcFormat = Literal["iso2709", "marcxml", "marc-json"]

# How much of the (decompressed) start of a feed format detection looks at.
HEAD = 1 << 16


class UnknownFormat(ValueError):
    """The file is not MARC21, MARCXML, MARC-in-JSON or a KBART title list."""


def peek_gzip(stream: BinaryIO) -> tuple[bool, BinaryIO]:
    """Whether a stream is gzip-compressed, and the stream with the peeked bytes put back."""
    magic = read_up_to(stream, 2)
    # `Chained` is an io.RawIOBase, a binary file, though not typing.BinaryIO's subclass by name.
    return magic == b"\x1f\x8b", cast(BinaryIO, Chained(magic, stream))


def open_feed(stream: BinaryIO) -> tuple[FeedFormat, io.BufferedReader]:
    """Detect compression and format from the content, not the file name."""
    magic = read_up_to(stream, 2)
    chained = Chained(magic, stream)
    raw: Readable = chained
    if magic == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=io.BufferedReader(chained, CHUNK), mode="rb")
    # Detection needs a full head: one short read (a BOM, two bytes of gzip) must not decide it.
    head = read_up_to(raw, HEAD)
    return detect_format(head), buffered(head, raw)


def is_kbart(head: bytes) -> bool:
    """A KBART title list: its first line is a header row that starts with publication_title.

    Only the start decides: `netzone.kbart` checks the whole header (25 columns, tabs, order)
    and says what is wrong with it, which helps a provider more than "unknown format".
    """
    first = head.lstrip(b"\xef\xbb\xbf \r\n").split(b"\n", 1)[0]
    return first.lstrip(b'"').lower().startswith(b"publication_title")


def detect_format(head: bytes) -> FeedFormat:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if is_kbart(head):
        return "kbart"
    if text[:1] == b"<":
        return "marcxml"
    if text[:1] in (b"{", b"["):
        # marc4j's "marc-json" leaves keys unquoted: it is still read, and each record rejected.
        if b"leader" in head or b'"fields"' in head:
            return "marc-json"
        raise UnknownFormat(
            'JSON, but not MARC-in-JSON: no "leader" or "fields" key in the first '
            f"{len(head):,} bytes; send MARC21 (ISO 2709), MARCXML or MARC-in-JSON, plain or gzip"
        )
    # A record starts with its 5-digit length, and its directory ends in a field terminator.
    if text[:5].isdigit() and (b"\x1e" in text or b"\x1d" in text):
        return "iso2709"
    raise UnknownFormat(
        "not MARC21 (ISO 2709), MARCXML, MARC-in-JSON or a KBART title list (tab-separated, "
        f"header row starting publication_title): the file starts with {text[:16]!r}; send one "
        "of those formats, plain or gzip"
    )
