"""A feed's records, read lazily by its format: `read_records`, `read_opened`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from netzone.marc.feed_format import FeedFormat, MarcFormat, UnknownFormat, open_feed
from netzone.marc.iso2709 import read_iso2709
from netzone.marc.marc_json import read_marc_json
from netzone.marc.marcxml import read_marcxml
from netzone.marc.read_result import ReadResult

_READERS: dict[MarcFormat, Callable[[BinaryIO], Iterator[ReadResult]]] = {
    "iso2709": read_iso2709,
    "marcxml": read_marcxml,
    "marc-json": read_marc_json,
}


def read_records(stream: BinaryIO) -> tuple[MarcFormat, Iterator[ReadResult]]:
    """Open a feed and return its format and a lazy iterator over its records."""
    fmt, buffered = open_feed(stream)
    marc_format = _marc_format(fmt)
    return marc_format, _READERS[marc_format](buffered)


def read_opened(fmt: FeedFormat, buffered: BinaryIO) -> Iterator[ReadResult]:
    """The records of a feed `open_feed` opened; a KBART title list has rows, not records."""
    return _READERS[_marc_format(fmt)](buffered)


def _marc_format(fmt: FeedFormat) -> MarcFormat:
    if fmt == "kbart":
        raise UnknownFormat(
            "a KBART title list, not MARC records: its rows become electronic portfolios "
            "(netzone.kbart_ingest), they are not read as MARC"
        )
    return fmt
