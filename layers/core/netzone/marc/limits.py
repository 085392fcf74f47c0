"""ISO 2709's size limits, the same for every reader, and the reasons a record over them is rejected.

ISO 2709 caps a record at 99,999 bytes (the leader's 5-digit length) and a field at 9,999 (the
directory's 4-digit length). A MARCXML or MARC-in-JSON record is held to what its ISO 2709
encoding would be (`iso2709_problem`): a record or field over them is rejected as it is read,
and what it holds beyond them is not kept in memory. The limits are the same for
`netzone feed check` and feed_ingest alike.
"""

from __future__ import annotations

import pymarc
from pymarc import Record

MAX_RECORD_BYTES = 99_999
MAX_FIELD_BYTES = 9_999
# MARC-in-JSON: a record whose JSON text (whitespace between tokens not counted) is longer than
# this is rejected without being parsed. A record within ISO 2709's limits takes far less: at most
# about 7 bytes of JSON per byte of ISO 2709, even with every character written as a \u escape.
MAX_JSON_RECORD_BYTES = 1_000_000
# MARCXML: a piece of markup the XML parser must hold whole before it can report it (a tag with
# its attributes, a comment, a declaration). MARCXML's are a few dozen bytes.
MAX_XML_MARKUP_BYTES = 1_000_000

# An empty record in ISO 2709: its leader (24 bytes), directory terminator and record terminator.
EMPTY_RECORD_BYTES = 24 + 2


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


def utf8_size(text: object) -> int:
    """Bytes of a value in UTF-8, as an ISO 2709 record holds it."""
    if not isinstance(text, str):
        text = str(text)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def subfield_bytes(code: object, value: object) -> int:
    """A subfield's length in ISO 2709: delimiter 0x1F, code, data."""
    return 1 + utf8_size(code) + utf8_size(value)


def field_bytes(field: pymarc.Field) -> int:
    """A field's length in ISO 2709 (what its directory entry records), terminator included."""
    if field.is_control_field():
        return utf8_size(field.data or "") + 1
    size = utf8_size(field.indicator1 or "") + utf8_size(field.indicator2 or "") + 1
    for code, value in field.subfields:
        size += 1 + utf8_size(code) + utf8_size(value)  # subfield_bytes
    return size


def entry_bytes(tag: object) -> int:
    """A directory entry: the tag (3 characters when it is a MARC tag), length (4) and start (5)."""
    return utf8_size(tag) + 9


def iso2709_problem(record: Record) -> str | None:
    """Why a record (read from MARCXML or MARC-in-JSON) is over ISO 2709's limits, or None.

    Fields are taken in order: the first field over MAX_FIELD_BYTES, or the field that takes
    the record over MAX_RECORD_BYTES, decides the reason (the MARCXML reader, which counts as it
    reads, finds the same one)."""
    total = EMPTY_RECORD_BYTES + utf8_size(record.leader) - 24
    for f in record.fields:
        size = field_bytes(f)
        if size > MAX_FIELD_BYTES:
            return field_too_long(f.tag)
        total += entry_bytes(f.tag) + size
        if total > MAX_RECORD_BYTES:
            return record_too_long()
    return None


def control_number(record: Record | None) -> str | None:
    """A record's 001, for the reject of a record over the limits (screening.source_id's rule)."""
    found = record.get("001") if record is not None else None
    value = (found.data or "").strip() if found is not None and found.data else ""
    return value[:200] or None
