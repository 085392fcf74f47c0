"""What is wrong with an ISO 2709 record, said where: the notes and reject reasons a cataloger reads.

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
import io
import re
from collections.abc import Iterator

import pymarc
from pymarc import Record
from pymarc.marc8 import marc8_to_unicode

_UNMAPPED = re.compile(r"Unable to parse character 0x([0-9a-f]+) in g0=(\d+) g1=(\d+)")
_MULTIBYTE_SHORT = re.compile(r"Multi-byte position \d+ exceeds length")

MAX_NOTES = 20  # per record: enough to find the problem, bounded for a report


def subfield_code_note(message: Warning | str) -> str:
    """pymarc's warning about a subfield code that is not ASCII, as a note."""
    subfield = getattr(message, "subf", None)
    if isinstance(subfield, bytes):
        return (
            f"subfield code {subfield[:1]!r} is not an ASCII character; "
            f"read as {pymarc.record.normalize_subfield_code(subfield)[0]!r}"
        )
    return str(message)


def has_escape(record: Record) -> bool:
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


def marc8_notes(frame: bytes) -> list[str]:
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


def describe(exc: Exception, frame: bytes = b"") -> str:
    """The reject reason of a record pymarc could not parse."""
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
