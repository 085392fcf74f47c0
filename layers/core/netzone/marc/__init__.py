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

The names below are the package's public API (`from netzone import marc`, `marc.read_records`);
its modules, one part each, are listed in the module map in `netzone/__init__.py`.
"""

from netzone.marc.feed_format import (
    FeedFormat,
    MarcFormat,
    UnknownFormat,
    is_kbart,
    open_feed,
    peek_gzip,
)
from netzone.marc.forms import (
    REJECTS_LAYOUT,
    canonical_json,
    marc_json_to_record,
    pack,
    record_to_marc_json,
    record_to_marcxml,
    records_to_marcxml_collection,
    serialize,
    unpack,
)
from netzone.marc.limits import (
    MAX_FIELD_BYTES,
    MAX_JSON_RECORD_BYTES,
    MAX_RECORD_BYTES,
    MAX_XML_MARKUP_BYTES,
    field_too_long,
    record_too_long,
)
from netzone.marc.read_result import ReadResult
from netzone.marc.readers import read_opened, read_records

__all__ = [
    "MAX_FIELD_BYTES",
    "MAX_JSON_RECORD_BYTES",
    "MAX_RECORD_BYTES",
    "MAX_XML_MARKUP_BYTES",
    "REJECTS_LAYOUT",
    "FeedFormat",
    "MarcFormat",
    "ReadResult",
    "UnknownFormat",
    "canonical_json",
    "field_too_long",
    "is_kbart",
    "marc_json_to_record",
    "open_feed",
    "pack",
    "peek_gzip",
    "read_opened",
    "read_records",
    "record_to_marc_json",
    "record_to_marcxml",
    "record_too_long",
    "records_to_marcxml_collection",
    "serialize",
    "unpack",
]
