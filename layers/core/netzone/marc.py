"""Reading and writing MARC records with pymarc, streamed.

A feed is read once, front to back, in bounded memory: ISO 2709 is framed on the record
terminator (so a record with a broken length or directory is reported and skipped, and the
rest of the file goes on), MARCXML goes through an incremental SAX parser fed in chunks, and
MARC-in-JSON is one record per line. Each record read yields a `ReadResult`: the parsed
record, or the reason it could not be parsed, always with its 1-based position.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal
from xml.sax import SAXException
from xml.sax.handler import feature_external_ges, feature_external_pes, feature_namespaces

import pymarc
from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from pymarc import JSONReader, Record, XMLWriter
from pymarc.marcxml import XmlHandler, record_to_xml

FeedFormat = Literal["iso2709", "marcxml", "marc-json"]

RECORD_TERMINATOR = b"\x1d"
# ISO 2709 caps a record at 99,999 bytes; anything longer without a terminator is garbage.
MAX_RECORD_BYTES = 100_000
CHUNK = 1 << 16


class UnknownFormat(ValueError):
    """The file is not MARC21, MARCXML or MARC-in-JSON."""


@dataclass(frozen=True, slots=True)
class ReadResult:
    position: int  # 1-based ordinal of the record in the feed
    offset: int | None  # byte offset in the (decompressed) feed, where known
    record: Record | None
    error: str | None = None
    raw: bytes | None = None  # the bytes of an unparseable record, for the rejects file


class _Chained(io.RawIOBase):
    """A raw stream that replays already-read bytes before the rest of `stream`."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_feed(stream: BinaryIO) -> tuple[FeedFormat, io.BufferedReader]:
    """Detect compression and format from the content, not the file name."""
    head = stream.read(2)
    raw: BinaryIO = _Chained(head, stream)
    if head == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=io.BufferedReader(raw, CHUNK), mode="rb")  # type: ignore[arg-type]
    buffered = io.BufferedReader(raw, CHUNK)  # type: ignore[arg-type]
    return detect_format(buffered.peek(512)[:512]), buffered


def detect_format(head: bytes) -> FeedFormat:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"<":
        return "marcxml"
    if text[:1] in (b"{", b"["):
        return "marc-json"
    if text[:5].isdigit():
        return "iso2709"
    raise UnknownFormat(
        "not MARC21 (ISO 2709), MARCXML or MARC-in-JSON: the file starts with "
        f"{text[:16]!r}; send one of those formats, plain or gzip"
    )


def read_records(stream: BinaryIO) -> tuple[FeedFormat, Iterator[ReadResult]]:
    """Open a feed and return its format and a lazy iterator over its records."""
    fmt, buffered = open_feed(stream)
    readers = {"iso2709": _read_iso2709, "marcxml": _read_marcxml, "marc-json": _read_marc_json}
    return fmt, readers[fmt](buffered)


# ---------------------------------------------------------------- ISO 2709


def _frames(stream: BinaryIO) -> Iterator[tuple[int, bytes, str | None]]:
    """Split a byte stream into records on the record terminator: (offset, bytes, error)."""
    buffer = b""
    offset = 0
    while True:
        cut = buffer.find(RECORD_TERMINATOR)
        if cut >= 0:
            frame, buffer = buffer[: cut + 1], buffer[cut + 1 :]
            yield offset, frame, None
            offset += len(frame)
            continue
        if len(buffer) > MAX_RECORD_BYTES:
            # No terminator within the largest legal record: report this stretch, resync.
            yield offset, buffer, f"no record terminator (0x1D) within {MAX_RECORD_BYTES} bytes"
            offset += len(buffer)
            buffer = b""
        data = stream.read(CHUNK)
        if not data:
            break
        buffer += data
    if buffer.strip(b"\x00\r\n \x1a"):
        yield offset, buffer, "truncated record at end of file (no record terminator 0x1D)"


def _read_iso2709(stream: BinaryIO) -> Iterator[ReadResult]:
    position = 0
    for offset, frame, error in _frames(stream):
        # Providers sometimes put a newline between records; it is not part of either.
        stripped = frame.lstrip(b"\r\n")
        offset += len(frame) - len(stripped)
        if not stripped:
            continue
        position += 1
        if error:
            yield ReadResult(position, offset, None, error, stripped)
            continue
        try:
            record = Record(stripped, to_unicode=True, force_utf8=False)
        except Exception as exc:  # pymarc raises many types; each is a reason to reject
            yield ReadResult(position, offset, None, _describe(exc), stripped)
            continue
        yield ReadResult(position, offset, record, None, None)


def _describe(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid UTF-8 at byte {exc.start} of the record (Leader/09 says 'a' = UTF-8)"
    if isinstance(exc, pymarc.exceptions.RecordDirectoryInvalid):
        return "invalid record directory (entries must be 12 digits: tag, length, start)"
    if isinstance(exc, pymarc.exceptions.RecordLeaderInvalid):
        return "invalid leader (must be 24 characters, positions 0-4 and 12-16 digits)"
    if isinstance(exc, pymarc.exceptions.BaseAddressInvalid | pymarc.exceptions.BaseAddressNotFound):
        return "invalid base address of data (Leader/12-16)"
    if isinstance(exc, ValueError) and "invalid literal for int()" in text:
        return "invalid record directory or leader: a length or start position is not numeric"
    if isinstance(exc, pymarc.exceptions.NoFieldsFound):
        return "record has no fields"
    return f"unreadable record ({name}{': ' + text if text else ''})"


# ---------------------------------------------------------------- MARCXML


class _StreamingHandler(XmlHandler):
    """pymarc's SAX handler, collecting per-record errors instead of stopping the feed."""

    def __init__(self) -> None:
        super().__init__(strict=False)
        self.ready: deque[tuple[Record | None, str | None]] = deque()
        self._error: str | None = None

    def startElementNS(self, name, qname, attrs):
        if name[1] == "record":
            self._error = None
        if self._error:
            return
        try:
            super().startElementNS(name, qname, attrs)
        except Exception as exc:
            self._fail(f"<{name[1]}> element is malformed ({type(exc).__name__}: {exc})")

    def endElementNS(self, name, qname):
        if name[1] == "record":
            if self._error:
                self.ready.append((None, self._error))
                self._record = None
                self._error = None
                return
        elif self._error:
            return
        try:
            super().endElementNS(name, qname)
        except Exception as exc:
            self._fail(f"</{name[1]}> element is malformed ({type(exc).__name__}: {exc})")
            if name[1] == "record":
                self.ready.append((None, self._error))
                self._error = None

    def _fail(self, reason: str) -> None:
        self._error = reason
        self._field = None

    def process_record(self, record: Record) -> None:
        self.ready.append((record, None))


def _read_marcxml(stream: BinaryIO) -> Iterator[ReadResult]:
    handler = _StreamingHandler()
    parser = make_parser()
    parser.setFeature(feature_namespaces, True)
    # defusedxml refuses entity declarations (billion laughs); never fetch what a feed points at (XXE).
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(handler)
    position = 0
    while True:
        data = stream.read(CHUNK)
        try:
            if data:
                parser.feed(data)
            else:
                parser.close()
        except (SAXException, DefusedXmlException) as exc:
            while handler.ready:
                position += 1
                record, error = handler.ready.popleft()
                yield ReadResult(position, None, record, error)
            position += 1
            yield ReadResult(
                position,
                None,
                None,
                f"XML is not well-formed or not allowed ({type(exc).__name__}: {exc}); "
                "records after this point could not be read",
            )
            return
        while handler.ready:
            position += 1
            record, error = handler.ready.popleft()
            yield ReadResult(position, None, record, error)
        if not data:
            return


# ---------------------------------------------------------------- MARC-in-JSON


def _read_marc_json(stream: BinaryIO) -> Iterator[ReadResult]:
    """MARC-in-JSON: one record per line; a JSON array or one pretty-printed object is read whole."""
    first = stream.peek(CHUNK)[:CHUNK].lstrip()  # type: ignore[attr-defined]
    first_line = first.split(b"\n", 1)[0].strip()
    if first[:1] == b"[" or first_line == b"{":
        text = stream.read().decode("utf-8", errors="replace")
        try:
            data = json.loads(text)
        except ValueError as exc:
            yield ReadResult(1, 0, None, f"invalid MARC-in-JSON ({exc})", text.encode()[:MAX_RECORD_BYTES])
            return
        for position, item in enumerate(data if isinstance(data, list) else [data], start=1):
            yield _json_result(position, None, item, None)
        return
    position = 0
    offset = 0
    for line in stream:
        start, offset = offset, offset + len(line)
        if not line.strip():
            continue
        position += 1
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield ReadResult(position, start, None, f"invalid MARC-in-JSON ({exc})", line)
            continue
        yield _json_result(position, start, item, line)


def _json_result(position: int, offset: int | None, item: object, raw: bytes | None) -> ReadResult:
    try:
        return ReadResult(position, offset, marc_json_to_record(item))  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return ReadResult(position, offset, None, f"invalid MARC-in-JSON ({exc})", raw)


# ---------------------------------------------------------------- writing and storage forms


def marc_json_to_record(data: dict) -> Record:
    if not isinstance(data, dict) or "fields" not in data:
        raise ValueError('a MARC-in-JSON record is an object with "leader" and "fields"')
    return next(iter(JSONReader(json.dumps(data))))


def record_to_marc_json(record: Record) -> dict:
    return record.as_dict()


def record_to_marcxml(record: Record) -> bytes:
    """One record as a standalone MARCXML document (a <record> in the MARC21 slim namespace)."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + record_to_xml(record, namespace=True)


def records_to_marcxml_collection(records: list[Record]) -> bytes:
    out = io.BytesIO()
    writer = XMLWriter(out)
    for record in records:
        writer.write(record)
    writer.close(close_fh=False)
    return out.getvalue()


def canonical_json(record: Record) -> bytes:
    """The record as compact, key-sorted MARC-in-JSON: equal records give equal bytes."""
    return json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def pack(record: Record) -> bytes:
    """Storage form: zlib-compressed canonical MARC-in-JSON (DynamoDB items cap at 400 KB)."""
    return zlib.compress(canonical_json(record), 6)


def unpack(data: bytes) -> Record:
    return marc_json_to_record(json.loads(zlib.decompress(data)))
