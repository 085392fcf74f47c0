"""Batches on MatchQueue: the messages that carry a feed file's records (`RecordBatch`) or KBART
rows (`PortfolioBatch`) from ingest to `record_match`, their wire format, and seen marks.

A batch is a run of items from one file, in file order, numbered by `seq` within its job; its
items travel packed (zlib and base64) well under SQS's 256 KiB. Every batch carries its file's
seen mark, which a full-replacement feed leaves on what it holds so that what it no longer
holds can be withdrawn (`netzone.completion`).
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import ClassVar, Literal, Protocol, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from netzone import kbart
from netzone.jobs import FeedMode, FeedRef

# ---------------------------------------------------------------- seen marks


def seen_mark(job_id: str, feed: FeedRef) -> str:
    """What a file leaves on each record (and portfolio) it holds: when it was dropped, then the
    job. Marks order a provider's files, so when two full-replacement files are in flight the
    older one's sweep keeps what the newer one holds, and a mark never moves back."""
    return f"{feed.dropped_at or ''}#{job_id}"


def newer_mark(current: str | None, mark: str) -> bool:
    """True when `mark` is newer than the mark an item carries (or it carries none, or only a
    bare job id, as items did before marks: older than any mark)."""
    return current is None or "#" not in current or current < mark


def latest_mark(current: str | None, mark: str) -> str:
    """The mark an item carries once a file holding it is filed: marks never move back."""
    return mark if current is None or newer_mark(current, mark) else current


# ---------------------------------------------------------------- wire format


def pack_items(items: list[BaseModel]) -> str:
    """A batch's items on the wire: base64(zlib(JSON list)), well under SQS's 256 KiB."""
    data = json.dumps([i.model_dump() for i in items], ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(data.encode(), 6)).decode()


def unpack_items(value: object) -> object:
    """The items of a batch read from the wire (or given as a list)."""
    if isinstance(value, str):
        return json.loads(zlib.decompress(base64.b64decode(value)))
    return value


class Batch(BaseModel):
    """What every batch of a feed file carries besides its items (`items_field`): its job, its
    number in the job, and the file's feed mode and seen mark."""

    items_field: ClassVar[str]
    kind: str  # what the batch holds: "records" or "portfolios" (record_match tells them apart by it)
    job_id: str
    provider: str
    seq: int = Field(ge=0)
    # The provider's feed mode when the file was read: a full-replacement feed marks every
    # record (portfolio) it holds as seen (its `seen_mark`, set to the batch's), so what it no longer
    # holds can be withdrawn.
    feed_mode: FeedMode = "incremental"
    seen_mark: str = ""

    @model_validator(mode="after")
    def _default_mark(self) -> Self:
        """A batch without a seen mark (a contribution, or one queued before marks) carries its
        job's undated mark, the one that job's sweep uses."""
        if not self.seen_mark:
            self.seen_mark = f"#{self.job_id}"
        return self

    def to_message(self) -> str:
        """The batch as an SQS message body: its fields as JSON, its items packed."""
        items = self.items_field
        return json.dumps({**self.model_dump(exclude={items}), items: pack_items(getattr(self, items))})


class BatchRecord(BaseModel):
    position: int
    source_id: str
    marc: dict  # MARC-in-JSON


class RecordBatch(Batch):
    """One SQS message: a run of records from one feed, in feed order."""

    items_field: ClassVar[str] = "records"
    kind: Literal["records"] = "records"
    records: list[BatchRecord]
    brief: bool = False  # brief records made from KBART rows (netzone.portfolio_filing)

    _unpack = field_validator("records", mode="before")(lambda cls, value: unpack_items(value))


class PortfolioRow(BaseModel):
    position: int  # the row's 1-based position in the file (header not counted)
    portfolio_id: str
    portfolio: dict  # kbart.Portfolio.to_dict()

    def to_portfolio(self) -> kbart.Portfolio:
        return kbart.Portfolio.from_dict(self.portfolio)


class PortfolioBatch(Batch):
    """One SQS message: a run of KBART rows from one feed, in file order (kind "portfolios")."""

    items_field: ClassVar[str] = "rows"
    kind: Literal["portfolios"] = "portfolios"
    rows: list[PortfolioRow]

    _unpack = field_validator("rows", mode="before")(lambda cls, value: unpack_items(value))


class BatchSink(Protocol):
    """Where a file's batches go (MatchQueue on AWS), in order."""

    def send(self, batch: RecordBatch | PortfolioBatch) -> None: ...
