"""Reading and writing MARC records with pymarc, streamed.

A feed is read once, front to back, in bounded memory: ISO 2709 is framed on the record
terminator (so a record with a broken length or directory is reported and skipped, and the
rest of the file goes on), MARCXML goes through an incremental SAX parser fed in chunks, and
MARC-in-JSON is one record per line. Each record read yields a `ReadResult`: the parsed
record, or the reason it could not be parsed, always with its 1-based position, and the
warnings a cataloger should see (characters MARC-8 cannot map, malformed indicators or
subfield codes) that pymarc would otherwise print to stderr or log where nobody reads them.

Bad bytes, decided as a cataloger would:
- MARC-8 (Leader/09 blank) with characters that have no mapping: the record is accepted and
  carries a warning per bad character naming the field, subfield and byte (pymarc puts a space
  in its place). Such gaps are almost always one rare character (an EACC code point missing from
  LC's table, a vendor extension, a lost escape), the rest of the record is sound, and losing the
  whole record over it would hurt the catalog more than the space does.
- Leader/09 'a' (UTF-8) with bytes that are not UTF-8: the record is rejected, with the byte
  position and the field. Invalid UTF-8 almost always means the record is in another encoding
  (MARC-8 or Latin-1 mislabelled as UTF-8), so every non-ASCII character in it is suspect, not
  just one; replacement characters would then spread into the shared network record, its
  match keys and every member's copy, and could not be undone from the text. Rejected, the raw
  record goes to the rejects file, ready for the provider to fix Leader/09 or the bytes and resend.
- MARC-8 that cannot be decoded at all (a broken multibyte character or escape sequence that
  pymarc raises on) is rejected likewise, naming the field.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import re
import warnings as pywarnings
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Literal
from xml.sax import SAXException
from xml.sax.handler import feature_external_ges, feature_external_pes, feature_namespaces

import pymarc
from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from pymarc import JSONReader, Record, XMLWriter
from pymarc.marc8 import marc8_to_unicode
from pymarc.marcxml import XmlHandler, record_to_xml

FeedFormat = Literal["iso2709", "marcxml", "marc-json", "kbart"]
MarcFormat = Literal["iso2709", "marcxml", "marc-json"]

RECORD_TERMINATOR = b"\x1d"
# ISO 2709 caps a record at 99,999 bytes; anything longer without a terminator is garbage.
MAX_RECORD_BYTES = 100_000
CHUNK = 1 << 16
# How much of the (decompressed) start of a feed format detection looks at.
HEAD = 1 << 16


class UnknownFormat(ValueError):
    """The file is not MARC21, MARCXML, MARC-in-JSON or a KBART title list."""


@dataclass(frozen=True, slots=True)
class ReadResult:
    position: int  # 1-based ordinal of the record in the feed
    offset: int | None  # byte offset in the (decompressed) feed, where known
    record: Record | None
    error: str | None = None
    # The record's bytes as read, where the reader keeps them (ISO 2709, JSON lines): a rejected
    # record goes to the rejects file exactly as the provider sent it.
    raw: bytes | None = None
    # What a cataloger should know about a record that was read (bad MARC-8 characters, bad
    # indicators or subfield codes), each naming where; empty when nothing was wrong.
    warnings: list[str] = field(default_factory=list)


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


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
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


def peek_gzip(stream: BinaryIO) -> tuple[bool, BinaryIO]:
    """Whether a stream is gzip-compressed, and the stream with the peeked bytes put back."""
    magic = _read_up_to(stream, 2)
    return magic == b"\x1f\x8b", _Chained(magic, stream)  # type: ignore[return-value]


def open_feed(stream: BinaryIO) -> tuple[FeedFormat, io.BufferedReader]:
    """Detect compression and format from the content, not the file name."""
    magic = _read_up_to(stream, 2)
    raw: BinaryIO = _Chained(magic, stream)  # type: ignore[assignment]
    if magic == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=io.BufferedReader(raw, CHUNK), mode="rb")  # type: ignore[arg-type]
    # Detection needs a full head: one short read (a BOM, two bytes of gzip) must not decide it.
    head = _read_up_to(raw, HEAD)
    buffered = io.BufferedReader(_Chained(head, raw), CHUNK)  # type: ignore[arg-type]
    return detect_format(head), buffered


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


def read_records(stream: BinaryIO) -> tuple[MarcFormat, Iterator[ReadResult]]:
    """Open a feed and return its format and a lazy iterator over its records."""
    fmt, buffered = open_feed(stream)
    return fmt, read_opened(fmt, buffered)  # type: ignore[return-value]


def read_opened(fmt: FeedFormat, buffered: BinaryIO) -> Iterator[ReadResult]:
    """The records of a feed `open_feed` opened; a KBART title list has rows, not records."""
    if fmt == "kbart":
        raise UnknownFormat(
            "a KBART title list, not MARC records: its rows become electronic portfolios "
            "(netzone.portfolio_feed), they are not read as MARC"
        )
    readers = {"iso2709": _read_iso2709, "marcxml": _read_marcxml, "marc-json": _read_marc_json}
    return readers[fmt](buffered)


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
        notes: list[str] = []
        try:
            record = _parse_iso2709(stripped, notes)
        except Exception as exc:  # pymarc raises many types; each is a reason to reject
            yield ReadResult(position, offset, None, _describe(exc, stripped), stripped, notes)
            continue
        yield ReadResult(position, offset, record, None, stripped, notes)


# MARC-8 text that pymarc may fail to map: escapes and bytes above ASCII (after the leader).
_MARC8_CARE = re.compile(rb"[\x1b\x80-\xff]")
# A subfield code that is not ASCII (pymarc warns with BadSubfieldCodeWarning).
_BAD_SUBFIELD_CODE = re.compile(rb"\x1f[\x80-\xff]")
_UNMAPPED = re.compile(r"Unable to parse character 0x([0-9a-f]+) in g0=(\d+) g1=(\d+)")
_MULTIBYTE_SHORT = re.compile(r"Multi-byte position \d+ exceeds length")


class _PymarcLog(logging.Filter):
    """Takes pymarc's log warnings (bad indicators) for the record being read, instead of printing."""

    def __init__(self) -> None:
        super().__init__()
        self.sink: list[str] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.sink is None:
            return True
        self.sink.append(record.getMessage())
        return False


_PYMARC_LOG = _PymarcLog()
logging.getLogger("pymarc").addFilter(_PYMARC_LOG)


def _parse_iso2709(frame: bytes, notes: list[str]) -> Record:
    """Parse one record, collecting what pymarc would print or log about it into `notes`.

    The common case (UTF-8, or plain-ASCII MARC-8, sane subfield codes) costs one regex scan on
    top of pymarc. Only a record that may produce MARC-8 or subfield-code warnings has stderr
    and `warnings` captured around it; that is process-global, which is fine here: a Lambda
    sandbox and the CLI read one feed on one thread.
    """
    marc8 = frame[9:10] != b"a"
    careful = bool((marc8 and _MARC8_CARE.search(frame, 24)) or _BAD_SUBFIELD_CODE.search(frame))
    _PYMARC_LOG.sink = notes
    try:
        if not careful:
            return Record(frame, to_unicode=True, force_utf8=False)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), pywarnings.catch_warnings(record=True) as caught:
            pywarnings.simplefilter("always")
            record = Record(frame, to_unicode=True, force_utf8=False)
    finally:
        _PYMARC_LOG.sink = None
    for warning in caught:
        notes.append(_subfield_code_note(warning.message))
    if marc8 and (stderr.getvalue() or _has_escape(record)):
        notes.extend(_marc8_notes(frame))
    return record


def _subfield_code_note(message: Warning | str) -> str:
    subfield = getattr(message, "subf", None)
    if isinstance(subfield, bytes):
        return (
            f"subfield code {subfield[:1]!r} is not an ASCII character; "
            f"read as {pymarc.record.normalize_subfield_code(subfield)[0]!r}"
        )
    return str(message)


def _has_escape(record: Record) -> bool:
    """pymarc keeps a lone ESC of an incomplete MARC-8 escape sequence in the text."""
    return any(
        "\x1b" in subfield.value
        for f in record.fields
        if not f.is_control_field()
        for subfield in f.subfields
    )


def _subfields(frame: bytes) -> Iterator[tuple[str, str, int, bytes]]:
    """(tag, code, record byte where the value starts, value bytes) of each subfield, by the directory."""
    base = int(frame[12:17])
    directory = frame[24 : base - 1]
    for start in range(0, len(directory) - len(directory) % 12, 12):
        entry = directory[start : start + 12].decode("ascii", "replace")
        tag, length, where = entry[:3], int(entry[3:7]), int(entry[7:12])
        if tag < "010" and tag.isdigit():
            continue
        data = frame[base + where : base + where + length - 1]
        indicators, *parts = data.split(b"\x1f")
        cursor = base + where + len(indicators)
        for part in parts:
            yield tag, part[:1].decode("ascii", "replace"), cursor + 2, part[1:]
            cursor += 1 + len(part)


MAX_NOTES = 20  # per record: enough to find the problem, bounded for a report


def _marc8_notes(frame: bytes) -> list[str]:
    """Where the MARC-8 conversion lost characters: one note per subfield, with its record byte."""
    notes: list[str] = []
    try:
        for tag, code, where, data in _subfields(frame):
            stderr = io.StringIO()
            with contextlib.redirect_stderr(stderr):
                text = marc8_to_unicode(data)
            problem = _marc8_problem(stderr.getvalue(), "\x1b" in text)
            if problem:
                notes.append(f"MARC-8 in {tag} ${code} (value at record byte {where}): {problem}")
    except (ValueError, IndexError):  # a directory pymarc tolerated but we cannot walk
        pass
    if len(notes) > MAX_NOTES:
        notes[MAX_NOTES:] = [f"... and {len(notes) - MAX_NOTES} more subfields with MARC-8 problems"]
    if not notes:
        notes.append("MARC-8: characters could not be mapped (pymarc replaced them by spaces)")
    try:
        frame.decode("utf-8")
        notes.append("the record's bytes are valid UTF-8: is Leader/09 ' ' (MARC-8) wrong, 'a' meant?")
    except UnicodeDecodeError:
        pass
    return notes


def _marc8_problem(printed: str, kept_escape: bool) -> str:
    """pymarc's stderr lines for one subfield, as one sentence."""
    unmapped: list[str] = []
    sets: set[str] = set()
    parts: list[str] = []
    short = 0
    for line in printed.splitlines():
        found = _UNMAPPED.search(line)
        if found:
            unmapped.append(f"0x{found.group(1)}")
            sets.add(f"G0 0x{int(found.group(2)):02x}, G1 0x{int(found.group(3)):02x}")
        elif _MULTIBYTE_SHORT.search(line):
            short += 1
        elif line.strip():
            parts.append(line.strip())
    if unmapped:
        shown = ", ".join(unmapped[:5]) + (f" and {len(unmapped) - 5} more" if len(unmapped) > 5 else "")
        parts.insert(
            0,
            f"{len(unmapped)} character(s) with no mapping in the character sets in use "
            f"({'; '.join(sorted(sets))}): {shown}, each replaced by a space",
        )
    if short:
        parts.append("incomplete multibyte (EACC) character at the end, replaced by a space")
    if kept_escape:
        parts.append("incomplete escape sequence (ESC kept in the text)")
    return "; ".join(parts)


def _describe(exc: Exception, frame: bytes = b"") -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    if isinstance(exc, UnicodeDecodeError):
        if exc.encoding == "marc8_to_unicode":
            return "invalid MARC-8: " + _where_marc8_breaks(frame)
        return _where_utf8_breaks(frame)
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


def _field_at(frame: bytes, byte: int) -> str:
    """The tag of the field holding record byte `byte`, by the directory, or '' if unknown."""
    try:
        base = int(frame[12:17])
        directory = frame[24 : base - 1]
        for start in range(0, len(directory) - len(directory) % 12, 12):
            entry = directory[start : start + 12]
            length, where = int(entry[3:7]), int(entry[7:12])
            if base + where <= byte < base + where + length:
                return entry[:3].decode("ascii", "replace")
    except ValueError:
        pass
    return ""


def _where_utf8_breaks(frame: bytes) -> str:
    try:
        frame.decode("utf-8")
    except UnicodeDecodeError as exc:
        tag = _field_at(frame, exc.start)
        return (
            f"invalid UTF-8 at byte {exc.start} of the record"
            f"{f' (field {tag})' if tag else ''}: byte 0x{frame[exc.start]:02x}; Leader/09 says 'a' "
            "(UTF-8), so the record is probably in another encoding (MARC-8: Leader/09 ' ')"
        )
    return "invalid UTF-8 in the record (Leader/09 says 'a' = UTF-8)"


def _where_marc8_breaks(frame: bytes) -> str:
    try:
        for tag, code, where, data in _subfields(frame):
            stderr = io.StringIO()
            try:
                with contextlib.redirect_stderr(stderr):
                    marc8_to_unicode(data)
            except UnicodeDecodeError:
                return (
                    f"broken multibyte character or escape sequence in {tag} ${code} "
                    f"(value at record byte {where})"
                )
    except (ValueError, IndexError):
        pass
    return "broken multibyte character or escape sequence"


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


# How a rejects file holds records of each format: file extension, header, separator, footer.
REJECTS_LAYOUT: dict[str, tuple[str, bytes, bytes, bytes]] = {
    "iso2709": ("mrc", b"", b"", b""),
    "marcxml": (
        "xml",
        b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n',
        b"\n",
        b"\n</collection>\n",
    ),
    "marc-json": ("jsonl", b"", b"\n", b"\n"),
}


def serialize(record: Record, fmt: str) -> bytes | None:
    """One record in a feed format (for a rejects file); None when it cannot be written back."""
    try:
        if fmt == "iso2709":
            return record.as_marc()
        if fmt == "marcxml":
            return record_to_xml(record, namespace=False)
        return json.dumps(record.as_dict(), ensure_ascii=False).encode()
    except Exception:  # a record pymarc read but cannot write (broken leader, odd field data)
        return None


def canonical_json(record: Record) -> bytes:
    """The record as compact, key-sorted MARC-in-JSON: equal records give equal bytes."""
    return json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def pack(record: Record) -> bytes:
    """Storage form: zlib-compressed canonical MARC-in-JSON (DynamoDB items cap at 400 KB)."""
    return zlib.compress(canonical_json(record), 6)


def unpack(data: bytes) -> Record:
    return marc_json_to_record(json.loads(zlib.decompress(data)))
