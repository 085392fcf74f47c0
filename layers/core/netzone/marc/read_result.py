"""What reading one record of a feed gives, in every format: `ReadResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

from pymarc import Record


@dataclass(frozen=True, slots=True)
class ReadResult:
    """One record read: the parsed record, or the reason it could not be parsed, always with
    its 1-based position, and the warnings a cataloger should see."""

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
