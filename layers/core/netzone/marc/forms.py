"""A record's other forms: MARC-in-JSON objects, MARCXML documents, a record written back in
its feed's format (for a rejects file), and the packed form the catalog stores."""

from __future__ import annotations

import io
import json
import zlib

from pymarc import JSONReader, Record, XMLWriter
from pymarc.marcxml import record_to_xml


def marc_json_to_record(data: object) -> Record:
    """The record a MARC-in-JSON object holds (ValueError, KeyError, TypeError when it holds none)."""
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
