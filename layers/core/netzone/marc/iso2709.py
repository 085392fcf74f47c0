"""Reading ISO 2709 (MARC21 transmission format), framed on the record terminator.

A record with a broken length or directory is reported and skipped, and the rest of the file
goes on. What pymarc would print to stderr or log about a record (characters MARC-8 cannot
map, malformed indicators or subfield codes) becomes the record's warnings instead.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings as pywarnings
from collections.abc import Iterator
from typing import BinaryIO

from pymarc import Record

from netzone.marc.iso2709_diagnosis import describe, has_escape, marc8_notes, subfield_code_note
from netzone.marc.limits import MAX_RECORD_BYTES, record_too_long
from netzone.marc.read_result import ReadResult
from netzone.marc.streams import CHUNK

RECORD_TERMINATOR = b"\x1d"


def frames(stream: BinaryIO) -> Iterator[tuple[int, bytes, str | None]]:
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


def read_iso2709(stream: BinaryIO) -> Iterator[ReadResult]:
    position = 0
    for offset, frame, error in frames(stream):
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
            record = parse(stripped, notes)
        except Exception as exc:  # pymarc raises many types; each is a reason to reject
            yield ReadResult(position, offset, None, describe(exc, stripped), stripped, notes)
            continue
        yield ReadResult(position, offset, record, None, stripped, notes)


# MARC-8 text that pymarc may fail to map: escapes and bytes above ASCII (after the leader).
_MARC8_CARE = re.compile(rb"[\x1b\x80-\xff]")
# A subfield code that is not ASCII (pymarc warns with BadSubfieldCodeWarning).
_BAD_SUBFIELD_CODE = re.compile(rb"\x1f[\x80-\xff]")


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


def parse(frame: bytes, notes: list[str]) -> Record:
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
        notes.append(subfield_code_note(warning.message))
    if marc8 and (stderr.getvalue() or has_escape(record)):
        notes.extend(marc8_notes(frame))
    return record
