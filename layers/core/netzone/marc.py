"""Reading and writing MARC records with pymarc, streamed.

A feed is read once, front to back, in bounded memory: ISO 2709 is framed on the record
terminator (so a record with a broken length or directory is reported and skipped, and the
rest of the file goes on), MARCXML goes through an incremental SAX parser fed in chunks, and
MARC-in-JSON (JSON lines, or an array or pretty-printed records) is cut into records as it is
read. Every reader holds records to ISO 2709's size limits while it reads (MAX_RECORD_BYTES,
MAX_FIELD_BYTES): a record over them is rejected with the reason, and what it holds beyond
them is never kept in memory. Each record read yields a `ReadResult`: the parsed
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
import itertools
import json
import logging
import re
import warnings as pywarnings
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
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
# Size limits, the same for every reader and so for `netzone feed check` and feed_ingest alike.
# ISO 2709 caps a record at 99,999 bytes (the leader's 5-digit length) and a field at 9,999
# (the directory's 4-digit length). A MARCXML or MARC-in-JSON record is held to what its ISO 2709
# encoding would be (`iso2709_problem`): a record or field over them is rejected as it is read,
# and what it holds beyond them is not kept in memory.
MAX_RECORD_BYTES = 99_999
MAX_FIELD_BYTES = 9_999
# MARC-in-JSON: a record whose JSON text (whitespace between tokens not counted) is longer than
# this is rejected without being parsed. A record within ISO 2709's limits takes far less: at most
# about 7 bytes of JSON per byte of ISO 2709, even with every character written as a \u escape.
MAX_JSON_RECORD_BYTES = 1_000_000
# MARCXML: a piece of markup the XML parser must hold whole before it can report it (a tag with
# its attributes, a comment, a declaration). MARCXML's are a few dozen bytes.
MAX_XML_MARKUP_BYTES = 1_000_000
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
    # The record's 001, where a record that could not be taken (over the size limits) had one:
    # its reject names it, so a full-replacement feed keeps what the provider still holds.
    source_id: str | None = None


def field_too_long(tag: str) -> str:
    """The reject reason of a record with a field over MAX_FIELD_BYTES (in any format)."""
    return (
        f"field {tag} is longer than {MAX_FIELD_BYTES:,} bytes, the most a MARC field can hold "
        "(ISO 2709: the directory's 4-digit field length); shorten or split the field"
    )


def record_too_long() -> str:
    """The reject reason of a record over MAX_RECORD_BYTES (in any format)."""
    return (
        f"record is longer than {MAX_RECORD_BYTES:,} bytes, the most a MARC record can hold "
        "(ISO 2709: the 5-digit record length in Leader/00-04); split the record or drop fields"
    )


def json_too_long() -> str:
    return (
        f"MARC-in-JSON record is longer than {MAX_JSON_RECORD_BYTES:,} bytes (whitespace between "
        f"tokens not counted), far more than a MARC record of at most {MAX_RECORD_BYTES:,} bytes "
        "(ISO 2709) takes; it was not read"
    )


def xml_markup_too_long() -> str:
    return (
        f"XML markup (a tag with its attributes, a comment or a declaration) longer than "
        f"{MAX_XML_MARKUP_BYTES:,} bytes; records after this point could not be read"
    )


def _size(text: object) -> int:
    """Bytes of a value in UTF-8, as an ISO 2709 record holds it."""
    if not isinstance(text, str):
        text = str(text)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _subfield_bytes(code: object, value: object) -> int:
    return 1 + _size(code) + _size(value)  # delimiter 0x1F, code, data


# An empty record in ISO 2709: its leader (24 bytes), directory terminator and record terminator.
_EMPTY_RECORD_BYTES = 24 + 2


def _field_bytes(field: pymarc.Field) -> int:
    """A field's length in ISO 2709 (what its directory entry records), terminator included."""
    if field.is_control_field():
        return _size(field.data or "") + 1
    size = _size(field.indicator1 or "") + _size(field.indicator2 or "") + 1
    for code, value in field.subfields:
        size += 1 + _size(code) + _size(value)  # _subfield_bytes
    return size


def _entry_bytes(tag: object) -> int:
    """A directory entry: the tag (3 characters when it is a MARC tag), length (4) and start (5)."""
    return _size(tag) + 9


def iso2709_problem(record: Record) -> str | None:
    """Why a record (read from MARCXML or MARC-in-JSON) is over ISO 2709's limits, or None.

    Fields are taken in order: the first field over MAX_FIELD_BYTES, or the field that takes
    the record over MAX_RECORD_BYTES, decides the reason (the MARCXML reader, which counts as it
    reads, finds the same one)."""
    total = _EMPTY_RECORD_BYTES + _size(record.leader) - 24
    for f in record.fields:
        size = _field_bytes(f)
        if size > MAX_FIELD_BYTES:
            return field_too_long(f.tag)
        total += _entry_bytes(f.tag) + size
        if total > MAX_RECORD_BYTES:
            return record_too_long()
    return None


def _control_number(record: Record | None) -> str | None:
    """A record's 001, for the reject of a record over the limits (feeds.source_id's rule)."""
    found = record.get("001") if record is not None else None
    value = (found.data or "").strip() if found is not None and found.data else ""
    return value[:200] or None


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
            yield offset, buffer, f"no record terminator (0x1D) within {MAX_RECORD_BYTES:,} bytes"
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
        if error is None and len(stripped) > MAX_RECORD_BYTES:
            error = record_too_long()  # a terminator, but further on than a leader can say
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
    """pymarc's SAX handler, collecting per-record errors instead of stopping the feed, and
    holding each record to ISO 2709's limits as it is read.

    pymarc's handler keeps every piece of text it is given; this one keeps only the text of a
    leader, control field or subfield (the whitespace between elements is dropped), counts each
    record's ISO 2709 size as its fields end, and once a field or the record is over the limits
    marks the record rejected and drops the rest of it unread: a 256 MiB subfield costs no more
    memory than a 9,999-byte one.
    """

    _TEXT = ("leader", "controlfield", "subfield")

    def __init__(self) -> None:
        super().__init__(strict=False)
        self.ready: deque[tuple[Record | None, str | None, str | None]] = deque()
        self._error: str | None = None
        self._error_id: str | None = None
        self.events = 0  # callbacks so far: the reader tells markup expat holds from text it reports
        self._in_text: str | None = None  # the text element being read
        self._text_chars = 0
        self._record_bytes = 0  # the record's ISO 2709 size so far
        self._field_bytes = 0  # the data field's ISO 2709 size so far

    def startElementNS(self, name, qname, attrs):
        self.events += 1
        element = name[1]
        if element == "record":
            self._error = self._error_id = None
            self._record_bytes = _EMPTY_RECORD_BYTES
        self._in_text, self._text_chars = None, 0
        if self._error:
            return
        try:
            super().startElementNS(name, qname, attrs)
        except Exception as exc:
            self._fail(f"<{element}> element is malformed ({type(exc).__name__}: {exc})")
            return
        if element in self._TEXT:
            self._in_text = element
        if element == "datafield" and self._field is not None:
            self._field_bytes = _size(self._field.indicator1) + _size(self._field.indicator2) + 1

    def characters(self, content):
        self.events += 1
        if self._error or self._in_text is None:
            return  # a rejected record's rest, or whitespace between elements: not kept
        self._text_chars += len(content)
        # Characters are at least as many bytes in UTF-8: over the limit in characters is over it.
        if self._in_text == "leader":
            if self._text_chars + _EMPTY_RECORD_BYTES - 24 > MAX_RECORD_BYTES:
                self._fail(record_too_long())
                return
        elif self._text_chars > MAX_FIELD_BYTES:
            self._fail(field_too_long(self._field.tag if self._field is not None else "?"))
            return
        self._text.append(content)

    def endElementNS(self, name, qname):
        self.events += 1
        element = name[1]
        self._in_text = None
        if element == "record":
            if self._error:
                self.ready.append((None, self._error, self._error_id))
                self._record = None
                self._error = self._error_id = None
                return
        elif self._error:
            return
        field, code, text = self._field, self._subfield_code, "".join(self._text)
        try:
            super().endElementNS(name, qname)
        except Exception as exc:
            self._fail(f"</{element}> element is malformed ({type(exc).__name__}: {exc})")
            if element == "record":
                self.ready.append((None, self._error, self._error_id))
                self._error = self._error_id = None
            return
        if self._record is None or field is None:
            if element == "leader" and self._record is not None:
                self._record_bytes += _size(text) - 24
            return
        # The same sums as iso2709_problem, as the record is read.
        if element == "subfield" and code:
            self._field_bytes += _subfield_bytes(code, text)
            if self._field_bytes > MAX_FIELD_BYTES:
                self._fail(field_too_long(field.tag))
        elif element in ("controlfield", "datafield"):
            size = _size(text) + 1 if element == "controlfield" else self._field_bytes
            if size > MAX_FIELD_BYTES:
                self._fail(field_too_long(field.tag))
                return
            self._record_bytes += _entry_bytes(field.tag) + size
            if self._record_bytes > MAX_RECORD_BYTES:
                self._fail(record_too_long())

    def _fail(self, reason: str) -> None:
        self._error = reason
        self._error_id = _control_number(self._record)
        self._field = None
        self._text = []
        self._in_text = None

    def process_record(self, record: Record) -> None:
        self.ready.append((record, None, None))


def _read_marcxml(stream: BinaryIO) -> Iterator[ReadResult]:
    handler = _StreamingHandler()
    parser = make_parser()
    parser.setFeature(feature_namespaces, True)
    # defusedxml refuses entity declarations (billion laughs); never fetch what a feed points at (XXE).
    parser.setFeature(feature_external_ges, False)
    parser.setFeature(feature_external_pes, False)
    parser.setContentHandler(handler)
    position = 0
    # Bytes fed since the parser last reported anything: expat holds a tag, comment or
    # declaration whole until it ends, so a stretch without any report is one piece of markup.
    quiet = 0
    while True:
        data = stream.read(CHUNK)
        events = handler.events
        error = None
        try:
            if data:
                parser.feed(data)
            else:
                parser.close()
        except (SAXException, DefusedXmlException) as exc:
            error = (
                f"XML is not well-formed or not allowed ({type(exc).__name__}: {exc}); "
                "records after this point could not be read"
            )
        quiet = quiet + len(data) if handler.events == events else 0
        if error is None and quiet > MAX_XML_MARKUP_BYTES:
            error = xml_markup_too_long()
        while handler.ready:
            position += 1
            record, reason, identifier = handler.ready.popleft()
            yield ReadResult(position, None, record, reason, source_id=identifier)
        if error is not None:
            position += 1
            yield ReadResult(position, None, None, error)
            return
        if not data:
            return


# ---------------------------------------------------------------- MARC-in-JSON

_JSON_SPACE = b" \t\r\n"
# One document (an array, or records pretty-printed over lines), cut by brackets (possessive
# quantifiers, Python 3.11+: a string the chunk's end cuts fails at once, without backtracking):
# inside a record, everything up to the next bracket (or a string cut by the chunk's end) is one
# match, strings included whole; between records, whitespace and commas, or a bare literal.
_JSON_RUN = re.compile(rb'(?:[^"{}\[\]]++|"[^"\\]*+(?:\\.[^"\\]*+)*+")++', re.S)
_JSON_STRING_END = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)  # the rest of a string
_JSON_BETWEEN = re.compile(rb"[ \t\r\n,]+")
_JSON_LITERAL = re.compile(rb'[^ \t\r\n,"{}\[\]]+')
_JSON_BLANKS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[ \t\r\n]++', re.S)  # to squeeze long runs
_JSON_SQUEEZE = 4096  # a run inside a record longer than this has its whitespace squeezed
# JSON lines, a token at a time (only lines longer than a record can be come here): outside
# strings, blanks, a line break, a quote, a bracket, a comma or a run of anything else; inside,
# a run of plain bytes, an escape, a lone backslash, a line break or the closing quote.
_JSON_LINE_TOKEN = re.compile(rb'[ \t\r]+|\n|"|[{\[]|[}\]]|,|[^ \t\r\n"{}\[\],]+')
_JSON_IN_STRING = re.compile(rb'[^"\\\n]+|\\[^\n]|\\|\n|"')


def _squeeze(run: bytes) -> bytes:
    """A run of JSON with each stretch of whitespace outside strings made one space."""
    return _JSON_BLANKS.sub(lambda m: m.group() if m.group()[:1] == b'"' else b" ", run)


class _JsonFrames:
    """Cuts MARC-in-JSON bytes into the text of each record, in bounded memory, without parsing.

    Only strings (with their escapes) and brackets are followed: enough to find where a record
    starts and ends and which bytes are whitespace between tokens. Long stretches of that
    whitespace are squeezed to a space, so a record padded with a gigabyte of it is an ordinary
    record; a record whose text is still longer than MAX_JSON_RECORD_BYTES is cut out unread
    (its text None). Each record's text is then parsed by `json`, which says what is wrong
    with it. `lines`: JSON lines, a record per line (a line break ends a record whatever its
    brackets say); otherwise one document: top-level values, the elements of a top-level array
    being the records.
    """

    def __init__(self, lines: bool, offset: int = 0):
        self.lines = lines
        self.offset = offset  # of the current chunk in the feed
        self.depth = 0
        self.level = 0  # 1 inside a top-level array, whose elements are the records
        self.in_string = False
        self.parts: list[bytes] | None = None  # the open record's text; None: no record open
        self.size = 0
        self.start = 0
        self.over = False
        self.space = b""
        self.carry = b""  # an escape's backslash cut off by a chunk's end

    def feed(self, chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes | None]]:
        """(offset, text or None when over the limit) of each record in `chunks`, in order."""
        cut = self._line if self.lines else self._document
        for data in chunks:
            if self.carry:
                data, self.offset, self.carry = self.carry + data, self.offset - len(self.carry), b""
            yield from cut(data)
            self.offset += len(data)
        if self.carry:
            self._add(self.carry)
        if self.parts is not None:
            yield self._close()

    def _document(self, data: bytes) -> Iterator[tuple[int, bytes | None]]:
        # The open record's bytes are taken from the chunk a slice at a time: data[mark:pos] is
        # the part not yet added.
        pos, end, mark = 0, len(data), 0
        while pos < end:
            if self.in_string:
                match = _JSON_STRING_END.match(data, pos)
                if match is None:  # the string goes on in the next chunk
                    tail = data[pos:]
                    if (len(tail) - len(tail.rstrip(b"\\"))) % 2:
                        self.carry, end = data[-1:], end - 1
                    self._add(data[mark:end])
                    return
                pos, self.in_string = match.end(), False
                if self.depth == self.level:
                    self._add(data[mark:pos])
                    yield self._close()  # a string on its own: not a record, json says why
                continue
            if self.parts is not None and self.depth > self.level:  # inside a record
                match = _JSON_RUN.match(data, pos)
                if match is not None:
                    if match.end() - pos > _JSON_SQUEEZE:
                        self._add(data[mark:pos])
                        self._add(_squeeze(match.group()))
                        mark = match.end()
                    pos = match.end()
                    continue
                char = data[pos : pos + 1]
                pos += 1
                if char == b'"':
                    self.in_string = True  # a string the chunk's end cuts
                elif char in b"{[":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth == self.level:
                        self._add(data[mark:pos])
                        yield self._close()
                continue
            # Between records.
            match = _JSON_BETWEEN.match(data, pos)
            if match is not None:
                if self.parts is not None:
                    self._add(data[mark:pos])
                    yield self._close()  # a bare literal ends
                pos = match.end()
                continue
            char = data[pos : pos + 1]
            if char == b"[" and self.depth == 0 and self.parts is None:
                self.depth = self.level = 1  # a top-level array: its elements are the records
                pos += 1
                continue
            if char == b"]" and self.level == 1:
                if self.parts is not None:
                    self._add(data[mark:pos])
                    yield self._close()
                self.depth = self.level = 0  # the top-level array ends
                pos += 1
                continue
            if char in b'{["':
                if self.parts is not None:
                    self._add(data[mark:pos])
                    yield self._close()
                self._open(pos)
                mark, pos = pos, pos + 1
                if char == b'"':
                    self.in_string = True
                else:
                    self.depth += 1
                continue
            # A bare literal or a stray bracket: not a record; json says why.
            if self.parts is None:
                self._open(pos)
                mark = pos
            match = _JSON_LITERAL.match(data, pos)
            pos = match.end() if match is not None else pos + 1
        if self.parts is not None:
            self._add(data[mark:end])

    def _line(self, data: bytes) -> Iterator[tuple[int, bytes | None]]:
        pos, end = 0, len(data)
        while pos < end:
            if self.in_string:
                match = _JSON_IN_STRING.match(data, pos)
                token = match.group()  # type: ignore[union-attr]
                pos = match.end()  # type: ignore[union-attr]
                if token == b"\n":
                    yield self._close()  # a line break ends the record, even in a string
                elif token == b"\\" and pos == end:
                    self.carry = token
                else:
                    self.in_string = token != b'"'
                    self._add(token)
                continue
            match = _JSON_LINE_TOKEN.match(data, pos)
            token = match.group()  # type: ignore[union-attr]
            at, pos = pos, match.end()  # type: ignore[union-attr]
            if token == b"\n":
                if self.parts is not None:
                    yield self._close()
            elif token[:1] in b" \t\r":
                if self.parts is not None and not self.space:
                    self.space = token[:1]  # a run of blanks becomes its first byte
            else:
                if self.parts is None:
                    self._open(at)
                self.in_string = token == b'"'
                self._add(token)

    def _open(self, at: int) -> None:
        self.parts, self.size, self.over, self.space = [], 0, False, b""
        self.start = self.offset + at

    def _add(self, token: bytes) -> None:
        if self.parts is None:
            return
        if self.space:
            token, self.space = self.space + token, b""
        self.size += len(token)
        if self.over:
            return
        if self.size > MAX_JSON_RECORD_BYTES:
            self.over, self.parts = True, []  # too long to be a record: keep counting, not bytes
            return
        self.parts.append(token)

    def _close(self) -> tuple[int, bytes | None]:
        text = None if self.over else b"".join(self.parts or [])
        found = (self.start, text)
        self.parts, self.space, self.in_string = None, b"", False
        self.depth = self.level if not self.lines else 0
        return found


def _json_mode(stream: BinaryIO) -> tuple[bool, int, bytes]:
    """Whether a MARC-in-JSON feed is JSON lines (or else one document: an array, or an object
    pretty-printed over lines), the bytes of leading whitespace skipped, and what was read
    beyond them (to be read again). JSON lines unless the feed starts with "[" or its first
    line is "{" alone; decided on at most MAX_JSON_RECORD_BYTES."""
    skipped, head = 0, b""
    while not head:
        data = stream.read(CHUNK)
        if not data:
            return True, skipped, b""
        head = data.lstrip(_JSON_SPACE)
        skipped += len(data) - len(head)
    if head[:1] == b"[":
        return False, skipped, head
    if head[:1] != b"{":
        return True, skipped, head
    while True:
        rest = head[1:].lstrip(b" \t\r")
        if rest:
            return rest[:1] != b"\n", skipped, head
        data = stream.read(CHUNK) if len(head) <= MAX_JSON_RECORD_BYTES else b""
        if not data:  # "{" and blanks to the end, or for longer than a record: a document
            return False, skipped, head
        head += data


def _read_marc_json(stream: BinaryIO) -> Iterator[ReadResult]:
    """MARC-in-JSON: JSON lines (a record per line), or one document (a JSON array of records,
    or records pretty-printed over lines), each record cut out by `_JsonFrames` as it is read."""
    lines, skipped, head = _json_mode(stream)
    rest = iter(lambda: stream.read(CHUNK), b"")
    position = 0
    if not lines:
        for _, text in _JsonFrames(lines=False, offset=skipped).feed(itertools.chain([head], rest)):
            position += 1
            decoded = None if text is None else text.decode("utf-8", errors="replace")
            yield _json_text_result(position, None, decoded, text)
        return
    reader = io.BufferedReader(_Chained(head, stream), CHUNK)  # type: ignore[arg-type]
    offset = skipped
    while line := reader.readline(MAX_JSON_RECORD_BYTES + 1):
        start, offset = offset, offset + len(line)
        if len(line) > MAX_JSON_RECORD_BYTES and not line.endswith(b"\n"):
            # A line longer than a record can be: read on to its end, blanks between tokens dropped.
            def to_line_end(first: bytes = line) -> Iterator[bytes]:
                nonlocal offset
                yield first
                while piece := reader.readline(CHUNK):
                    offset += len(piece)
                    yield piece
                    if piece.endswith(b"\n"):
                        return

            found = list(_JsonFrames(lines=True, offset=start).feed(to_line_end()))
            if not found:
                continue
            start, text = found[0]
        else:
            text = line.rstrip(b"\r\n")
            if not text.strip():
                continue
        position += 1
        yield _json_text_result(position, start, text, text)


def _json_text_result(
    position: int, offset: int | None, text: str | bytes | None, raw: bytes | None
) -> ReadResult:
    if text is None:
        return ReadResult(position, offset, None, json_too_long())
    try:
        item = json.loads(text)
    except ValueError as exc:
        return ReadResult(position, offset, None, f"invalid MARC-in-JSON ({exc})", raw)
    return _json_result(position, offset, item, raw)


def _json_result(position: int, offset: int | None, item: object, raw: bytes | None) -> ReadResult:
    try:
        record = marc_json_to_record(item)  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return ReadResult(position, offset, None, f"invalid MARC-in-JSON ({exc})", raw)
    problem = iso2709_problem(record)
    if problem:
        return ReadResult(position, offset, None, problem, raw, source_id=_control_number(record))
    return ReadResult(position, offset, record, None, raw)


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
