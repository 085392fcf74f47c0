"""Screening: what each record (or KBART row) a feed file holds becomes once read: an item to
send to matching, or a reject with a reason the provider can act on.

The bibliographic rules for MARC records (`validate`, `source_id`), the step that screens one
record read (`screen`), the MARC part of ingest's read loop (`MarcRecords`; the KBART part is
`netzone.kbart_ingest.KbartRows`), and what an offline check counts (`CheckReport`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, TypeVar

from pydantic import BaseModel, Field
from pymarc import Record

from netzone import marc
from netzone.batches import BatchRecord, PortfolioBatch, RecordBatch
from netzone.jobs import MAX_SOURCE_ID, RecordWarning, Reject

# Bibliographic record types (Leader/06); authority (z) and holdings (u, v, x, y) come later.
BIBLIOGRAPHIC_TYPES = set("acdefgijkmoprt")

Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class Screened:
    """One record (or row) read and screened: the item it sends to matching, or its reject."""

    position: int  # 1-based, in the whole file
    offset: int | None  # byte offset in the (decompressed) file, where known
    source_id: str | None
    warnings: list[str] = field(default_factory=list)
    item: BaseModel | None = None  # BatchRecord, PortfolioRow; None when rejected
    size: int = 0  # the item's estimated size in its batch on the wire
    reject: Reject | None = None


class FeedReader(Protocol[Result]):
    """The format-specific part of ingesting one file (`MarcRecords`, `KbartRows`); the read
    loop around it (batching, pausing, the read log, counting) is `netzone.ingest`'s, one for
    every format."""

    @property
    def batch(self) -> type[RecordBatch] | type[PortfolioBatch]:
        """The message its items travel in."""
        ...

    @property
    def format(self) -> str:
        """The file's format, as netzone.marc.open_feed names it."""
        ...

    @property
    def offsets(self) -> bool:
        """Whether a paused read can go on at the next record's byte offset (else the file is
        read again from the start and the records read skipped)."""
        ...

    @property
    def results(self) -> Iterator[Result]:
        """What the parser reads, in file order: each with its `position` and `offset`."""
        ...

    def screen(self, result: Result) -> Screened:
        """One result read: its batch item, or its reject."""
        ...


# ---------------------------------------------------------------- MARC records


def source_id(record: Record) -> str | None:
    field = record.get("001")
    value = (field.data or "").strip() if field is not None else ""
    return value or None


def validate(record: Record) -> str | None:
    """Why this record cannot enter the catalog, or None when it can."""
    leader = str(record.leader)
    if len(leader) != 24:
        return f"leader is {len(leader)} characters, not 24"
    if leader[6] not in BIBLIOGRAPHIC_TYPES:
        return (
            f"Leader/06 record type {leader[6]!r} is not a bibliographic record "
            "(expected one of a c d e f g i j k m o p r t)"
        )
    identifier = source_id(record)
    if identifier is None:
        return "no 001 control number: the provider's record id is required to track the record"
    if len(identifier) > MAX_SOURCE_ID or any(ord(c) < 32 for c in identifier):
        return f"001 control number must be at most {MAX_SOURCE_ID} printable characters"
    if leader[5] != "d" and not any(f.get_subfields("a", "k") for f in record.get_fields("245")):
        return "no 245 title statement (245 $a or $k is required)"
    return None


def screen(result: marc.ReadResult, fmt: str = "iso2709") -> tuple[str | None, Reject | None]:
    """A record read: its source id and, if it cannot enter the catalog, its reject (carrying
    the record's bytes for the rejects file)."""
    if result.record is None:
        reject = Reject(
            position=result.position,
            source_id=result.source_id,  # a record over the size limits may have named itself
            reason=result.error or "unreadable",
            offset=result.offset,
            raw=result.raw,
        )
        return reject.source_id, reject
    identifier = source_id(result.record)
    reason = validate(result.record)
    if reason is None:
        return identifier, None
    raw = result.raw or marc.serialize(result.record, fmt)
    return identifier, Reject(
        position=result.position, source_id=identifier, reason=reason, offset=result.offset, raw=raw
    )


@dataclass
class MarcRecords:
    """The records of a MARC feed (ISO 2709, MARCXML or MARC-in-JSON) for the read loop: each
    screened by `validate`, an accepted one sent as MARC-in-JSON in a `RecordBatch`."""

    format: str
    results: Iterator[marc.ReadResult]
    offsets: bool = False
    batch: ClassVar[type[RecordBatch]] = RecordBatch

    def screen(self, result: marc.ReadResult) -> Screened:
        identifier, reject = screen(result, self.format)
        if reject is not None or result.record is None:
            return Screened(result.position, result.offset, identifier, result.warnings, reject=reject)
        data = marc.record_to_marc_json(result.record)
        size = len(json.dumps(data, ensure_ascii=False)) // 3  # MARC JSON compresses ~3:1 or better
        item = BatchRecord(position=result.position, source_id=identifier or "", marc=data)
        return Screened(result.position, result.offset, identifier, result.warnings, item=item, size=size)


# ---------------------------------------------------------------- check (offline)


class CheckReport(BaseModel):
    """What ingest would make of a feed file, without sending anything: `netzone feed check`."""

    format: str | None = None
    records_read: int = 0
    accepted: int = 0
    rejected: int = 0
    records_with_warnings: int = 0
    rejects: list[Reject] = Field(default_factory=list)  # the first `max_rejects`
    warnings: list[RecordWarning] = Field(default_factory=list)  # the first `max_warnings`
    reasons: dict[str, int] = Field(default_factory=dict)  # rejects by reason
    # The file as a whole could not be read (not MARC, broken gzip): say why. Counts cover
    # what was read before that.
    error: str | None = None

    def tally(
        self,
        position: int,
        offset: int | None,
        source_id: str | None,
        warnings: list[str],
        reject: Reject | None,
        max_rejects: int,
        max_warnings: int,
    ) -> None:
        """Count one record (or KBART row) read: accepted or rejected, with or without warnings."""
        self.records_read += 1
        if warnings:
            self.records_with_warnings += 1
            if len(self.warnings) < max_warnings:
                self.warnings.append(
                    RecordWarning(position=position, source_id=source_id, warnings=warnings, offset=offset)
                )
        if reject is None:
            self.accepted += 1
            return
        self.rejected += 1
        if len(self.rejects) < max_rejects:  # without its bytes: a check shows, it keeps no file
            self.rejects.append(reject.model_copy(update={"raw": None}) if reject.raw else reject)
        reason = reason_kind(reject.reason)
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def exit_status(self) -> int:
        """0: everything would be accepted; 1: something would be rejected; 2: unreadable file."""
        if self.error:
            return 2
        return 1 if self.rejected else 0


def reason_kind(reason: str) -> str:
    """A reject reason without its record-specific numbers (positions, byte offsets), for
    counting rejects by kind; three-digit numbers are kept: they are MARC tags."""
    return _RECORD_NUMBER.sub("N", reason.split(";", 1)[0])[:100]


# A number of the record's own: one or two digits, four or more, or with thousands separators
# ("byte 1,025", "9,999 bytes"); three digits alone are kept as a tag, and "ISO 2709" as a name.
_RECORD_NUMBER = re.compile(r"(?<!ISO )(?<![\w/,-])(?:\d{1,3}(?:,\d{3})+|\d{1,2}|\d{4,})(?![\w-]|,\d)")
