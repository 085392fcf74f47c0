"""Feed jobs: from a provider's file to record batches on MatchQueue, every record accounted for.

A feed is `feeds/<provider>/<file>` in the feed bucket. Its job id is derived from the
bucket, key and ETag, so a redelivered S3 event finds the same job and a changed re-drop of
the same key is a new job. The ingest reads the file once (see `netzone.marc`), rejects what
cannot be a bibliographic record with a reason, and sends the rest in batches; `record_match`
counts each record's outcome on the job. Counting is idempotent per batch, so the counters
add up to the records read even when messages are delivered twice. Only registered providers
feed (`ProviderDirectory`); a run near its time limit pauses at a batch end and leaves a
`Checkpoint`; finishing the job is `netzone.completion`'s.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
import re
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal, Protocol

from pydantic import BaseModel, Field, field_validator, model_validator
from pymarc import Record

from netzone import marc

# failed: record_match gave up on the record's batch (its message reached the dead-letter
# queue, netzone.dead_letters): counted with the reason; resend the record once that is fixed.
OUTCOMES = ("created", "merged", "unchanged", "review", "withdrawn", "rejected", "failed")
Outcome = Literal["created", "merged", "unchanged", "review", "withdrawn", "rejected", "failed"]
# reading -> matching -> (withdrawing: a full-replacement feed withdraws what it no longer holds)
# -> completed, or completed_with_failures when some records `failed`; or failed when the file
# as a whole cannot be ingested (or a step finishing the job kept failing).
JobStatus = Literal["reading", "matching", "withdrawing", "completed", "completed_with_failures", "failed"]
FINISHED = ("completed", "completed_with_failures", "failed")  # a job in these moves no more
FeedMode = Literal["incremental", "full"]

PROVIDER_CODE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
# Bibliographic record types (Leader/06); authority (z) and holdings (u, v, x, y) come later.
BIBLIOGRAPHIC_TYPES = set("acdefgijkmoprt")
MAX_SOURCE_ID = 200
# Caps on what rejects keep, so that a hostile file cannot make large reports or rejects files
# (the record size limits themselves are netzone.marc's: MAX_RECORD_BYTES, MAX_FIELD_BYTES).
# A reject keeps its record's bytes for the rejects file up to one record's worth.
MAX_REJECT_RAW_BYTES = marc.MAX_RECORD_BYTES
# A job's rejects file holds rejected records up to this size; the report counts those left out.
MAX_REJECTS_FILE_BYTES = 16 << 20
# A job's report lists this many rejects at most (counts and rejects by reason stay exact).
MAX_REPORT_REJECTS = 10_000
MAX_REASON_CHARS = 1_000  # a reject's reason
MAX_RECORD_WARNINGS = 25  # warnings kept per record


class FeedError(ValueError):
    """The feed as a whole cannot be read (wrong place, unknown format); nothing is ingested."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audit_id() -> str:
    """Sorts by time (microseconds, so entries one request writes in turn stay in order), unique."""
    stamp = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f"{stamp}#{uuid.uuid4().hex[:8]}"


def job_id_for(bucket: str, key: str, etag: str) -> str:
    """The feed job of one version of one object: same drop, same job."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag.strip(chr(34))}".encode()).hexdigest()
    return digest[:20]


def feed_key(provider: str, filename: str) -> str:
    return f"feeds/{provider}/{filename}"


def provider_of(key: str) -> str:
    """The provider code of a feed key `feeds/<provider>/<file>`."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != "feeds" or not parts[-1]:
        raise FeedError(f"feed files belong under feeds/<provider>/<file>, not {key!r}")
    if not PROVIDER_CODE.match(parts[1]):
        raise FeedError(
            f"provider code {parts[1]!r} in {key!r} must be lower-case letters, digits, '.', '_' or '-'"
        )
    return parts[1]


# ---------------------------------------------------------------- models


class FeedRef(BaseModel):
    bucket: str
    key: str
    etag: str
    size: int | None = None
    version_id: str | None = None
    dropped_at: str | None = None  # the S3 event's time: orders a provider's files


def default_mark(batch: Any) -> Any:
    """A batch without a seen mark (a contribution, or one queued before marks) carries its
    job's undated mark, the one that job's sweep uses."""
    if not batch.seen_mark:
        batch.seen_mark = f"#{batch.job_id}"
    return batch


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
    return mark if newer_mark(current, mark) else current  # type: ignore[return-value]


class Reject(BaseModel):
    position: int
    source_id: str | None = None
    reason: str
    offset: int | None = None
    # The record as the provider sent it, for the rejects file (never shown in job listings).
    raw: bytes | None = Field(default=None, exclude=True, repr=False)
    # "failed": not the record's fault; record_match gave up on its batch (the reason says why).
    outcome: Literal["rejected", "failed"] = "rejected"

    # Bounded, whatever the record: its reason and id are cut short, and bytes beyond one
    # record's worth are not kept (they could not be a record to fix and resend).
    _reason = field_validator("reason")(lambda cls, value: value[:MAX_REASON_CHARS])
    _id = field_validator("source_id")(lambda cls, value: value and value[:MAX_SOURCE_ID])
    _raw = field_validator("raw")(
        lambda cls, value: value if value is None or len(value) <= MAX_REJECT_RAW_BYTES else None
    )


def _first_warnings(warnings: list[str]) -> list[str]:
    if len(warnings) <= MAX_RECORD_WARNINGS:
        return warnings
    return [*warnings[: MAX_RECORD_WARNINGS - 1], f"... and {len(warnings) - MAX_RECORD_WARNINGS + 1} more"]


class RecordWarning(BaseModel):
    """A record that was read (and accepted, unless also rejected) with something to fix."""

    position: int
    source_id: str | None = None
    warnings: list[str]
    offset: int | None = None

    _id = field_validator("source_id")(lambda cls, value: value and value[:MAX_SOURCE_ID])
    _warnings = field_validator("warnings")(lambda cls, value: _first_warnings(value))


class FeedJob(BaseModel):
    """A feed job as staff and providers see it."""

    job_id: str
    provider: str
    feed: FeedRef
    format: str | None = None
    status: JobStatus
    records_read: int | None = None
    accepted: int | None = None  # records read and sent to matching (known once reading is done)
    matched: int = 0  # accepted records that have their outcome
    counts: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rejects: list[Reject] = Field(default_factory=list)
    rejects_truncated: bool = False
    # Records read with warnings (e.g. MARC-8 characters that could not be mapped); the first ones.
    records_with_warnings: int = 0
    warnings: list[RecordWarning] = Field(default_factory=list)
    error: str | None = None
    feed_mode: FeedMode | None = None
    # Records of a full-replacement provider that the new file no longer held.
    withdrawn_absent: int = 0
    started_at: str
    read_at: str | None = None
    completed_at: str | None = None
    report_key: str | None = None
    rejects_key: str | None = None


class BatchRecord(BaseModel):
    position: int
    source_id: str
    marc: dict  # MARC-in-JSON


def pack_items(items: list[BaseModel]) -> str:
    """A batch's items on the wire: base64(zlib(JSON list)), well under SQS's 256 KiB."""
    data = json.dumps([i.model_dump() for i in items], ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(data.encode(), 6)).decode()


def unpack_items(value: object) -> object:
    """The items of a batch read from the wire (or given as a list)."""
    if isinstance(value, str):
        return json.loads(zlib.decompress(base64.b64decode(value)))
    return value


def pack_message(batch: BaseModel, items: str) -> str:
    """A batch as an SQS message body: its fields as JSON, its items (`items`) packed."""
    return json.dumps({**batch.model_dump(exclude={items}), items: pack_items(getattr(batch, items))})


class RecordBatch(BaseModel):
    """One SQS message: a run of records from one feed, in feed order."""

    kind: Literal["records"] = "records"
    job_id: str
    provider: str
    seq: int = Field(ge=0)
    records: list[BatchRecord]
    # The provider's feed mode when the file was read: a full-replacement feed marks every
    # record it holds as seen (seen_job, with `seen_mark`), so what it no longer holds can be
    # withdrawn.
    feed_mode: FeedMode = "incremental"
    seen_mark: str = ""
    brief: bool = False  # brief records made from KBART rows (netzone.portfolios)

    _unpack = field_validator("records", mode="before")(lambda cls, value: unpack_items(value))
    _mark = model_validator(mode="after")(lambda batch: default_mark(batch))

    def to_message(self) -> str:
        return pack_message(self, "records")


class FeedProvider(BaseModel):
    """What ingest needs to know of a registered provider (the registry is the network table's)."""

    code: str
    formats: list[str] = Field(default_factory=lambda: list(PROVIDER_FORMATS.values()))
    feed_mode: FeedMode = "incremental"
    management_level: Literal["provider", "community"] = "provider"
    source_priority: int = 50

    @property
    def merge_priority(self) -> int:
        """Rank when merging: a provider-managed record is the provider's to change, so it
        outranks every community-managed source and member contribution (those rank by their
        source priority, 1-100; contributions have the default, 50)."""
        return self.source_priority + (100 if self.management_level == "provider" else 0)


# The reader's format names as the provider registry spells them.
PROVIDER_FORMATS = {"iso2709": "marc21", "marcxml": "marcxml", "marc-json": "marc-json", "kbart": "kbart"}


# ---------------------------------------------------------------- ports


class ProviderDirectory(Protocol):
    def feed_provider(self, code: str) -> FeedProvider | None: ...


class BatchSink(Protocol):
    def send(self, batch: RecordBatch) -> None: ...


class JobLedger(Protocol):
    def start(self, job: FeedJob) -> str | None:
        """Create the job; None when created, else the status of the job already there."""
        ...

    def add_rejects(self, job_id: str, rejects: list[Reject]) -> None: ...
    def add_warnings(self, job_id: str, warnings: list[RecordWarning]) -> None: ...
    def finish_reading(
        self,
        job_id: str,
        records_read: int,
        rejected: int,
        fmt: str,
        warned: int = 0,
        feed_mode: FeedMode = "incremental",
    ) -> None: ...
    def fail(self, job_id: str, reason: str) -> None: ...


# ---------------------------------------------------------------- validation


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


# ---------------------------------------------------------------- ingest


class Checkpoint(BaseModel):
    """Where a paused ingest goes on: a run near the Lambda time limit stops between records,
    and a new invocation continues from here (see functions/feed_ingest)."""

    kind: Literal["continue"] = "continue"
    job_id: str
    feed: FeedRef
    position: int = Field(ge=0)  # records read so far; the next one is position + 1
    # Byte offset of the next record in the object when it can be read from there (plain ISO
    # 2709 or JSON lines); None: a compressed, XML or KBART feed is re-read and the first records
    # (rows) skipped.
    offset: int | None = Field(default=None, ge=0)
    seq: int = Field(ge=0)  # the next batch's number
    feed_mode: FeedMode = "incremental"  # the provider's when the file started
    records_read: int = 0
    rejected: int = 0
    warned: int = 0
    sent: int = 0
    raw_kept: int = 0  # bytes of rejected records kept for the rejects file so far

    def to_message(self) -> str:
        return self.model_dump_json(exclude_none=True)


@dataclass
class IngestSummary:
    job_id: str
    format: str | None = None
    records_read: int = 0
    sent: int = 0
    rejected: int = 0
    batches: int = 0
    rejects: list[Reject] = field(default_factory=list)  # first ones only, for the log
    warned: int = 0  # records read with warnings
    warnings: list[RecordWarning] = field(default_factory=list)  # first ones only, for the log
    checkpoint: Checkpoint | None = None  # set when the run paused before the end of the file
    already_read: bool = False  # the job had been read before: nothing was done
    raw_kept: int = 0  # bytes of rejected records kept for the rejects file (MAX_REJECTS_FILE_BYTES)

    def resume_from(self, resume: Checkpoint | None) -> None:
        """A continuation's counts carry on from where the paused run left them."""
        if resume is not None:
            self.records_read, self.rejected = resume.records_read, resume.rejected
            self.warned, self.sent = resume.warned, resume.sent
            self.raw_kept = resume.raw_kept

    def pause(self, feed: FeedRef, position: int, offset: int | None, feed_mode: FeedMode) -> None:
        """Stop before record `position + 1`: the checkpoint a new invocation continues from
        (its batch number is set once the run's last batch is sent)."""
        self.checkpoint = Checkpoint(
            job_id=self.job_id,
            feed=feed,
            position=position,
            offset=offset,
            seq=0,
            feed_mode=feed_mode,
            records_read=self.records_read,
            rejected=self.rejected,
            warned=self.warned,
            sent=self.sent,
            raw_kept=self.raw_kept,
        )


def feed_batcher(
    model: Callable[..., object],
    items: str,
    job_id: str,
    provider: str,
    feed: FeedRef,
    feed_mode: FeedMode,
    sink: BatchSink,
    max_items: int,
    max_bytes: int,
    resume: Checkpoint | None,
) -> Batcher:
    """The Batcher of one file's messages (`model`: RecordBatch, PortfolioBatch, whose list of
    items is `items`): numbered on from a checkpoint, each with the file's feed mode and seen mark."""
    mark = seen_mark(job_id, feed)

    def make_batch(seq: int, batch_items: list) -> object:
        return model(
            job_id=job_id,
            provider=provider,
            seq=seq,
            feed_mode=feed_mode,
            seen_mark=mark,
            **{items: batch_items},
        )

    return Batcher(make_batch, sink, max_items, max_bytes, seq=resume.seq if resume is not None else 0)


@dataclass
class Batcher:
    """Items into batches bounded by count and by (estimated compressed) size, sent in order;
    `make_batch(seq, items)` builds the message (record batches, portfolio batches)."""

    make_batch: Callable[[int, list], object]
    sink: BatchSink
    max_items: int
    max_bytes: int
    seq: int = 0
    pending: list = field(default_factory=list)
    pending_bytes: int = 0

    def would_flush(self, size: int) -> bool:
        """Whether the next item, of `size`, starts a new batch."""
        return bool(self.pending) and (
            len(self.pending) >= self.max_items or self.pending_bytes + size > self.max_bytes
        )

    def add(self, item: object, size: int) -> None:
        if self.would_flush(size):
            self.flush()
        self.pending.append(item)
        self.pending_bytes += size

    def flush(self) -> None:
        if self.pending:
            self.sink.send(self.make_batch(self.seq, self.pending))  # type: ignore[arg-type]
            self.seq += 1
            self.pending, self.pending_bytes = [], 0


@dataclass
class ReadLog:
    """Rejects and warnings of a run, kept on the summary (the first few, for the log) and
    written to the job ledger in small batches as the file is read."""

    ledger: JobLedger
    job_id: str
    summary: IngestSummary
    flush_every: int = 25
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[RecordWarning] = field(default_factory=list)

    def warn(self, position: int, source_id: str | None, warnings: list[str], offset: int | None) -> None:
        note = RecordWarning(position=position, source_id=source_id, warnings=warnings, offset=offset)
        self.summary.warned += 1
        if len(self.summary.warnings) < 10:
            self.summary.warnings.append(note)
        self.warnings.append(note)
        if len(self.warnings) >= self.flush_every:
            self.flush()

    def reject(self, reject: Reject) -> None:
        if reject.raw is not None:
            # The rejects file's cap holds here already: bytes past it are not stored at all.
            if self.summary.raw_kept + len(reject.raw) > MAX_REJECTS_FILE_BYTES:
                reject = reject.model_copy(update={"raw": None})
                self.summary.raw_kept = MAX_REJECTS_FILE_BYTES  # full: the file keeps feed order
            else:
                self.summary.raw_kept += len(reject.raw)
        self.summary.rejected += 1
        if len(self.summary.rejects) < 10:
            self.summary.rejects.append(reject)
        self.rejects.append(reject)
        if len(self.rejects) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self.rejects:
            self.ledger.add_rejects(self.job_id, self.rejects)
            self.rejects = []
        if self.warnings:
            self.ledger.add_warnings(self.job_id, self.warnings)
            self.warnings = []


def screen(
    results: Iterable[marc.ReadResult], fmt: str = "iso2709"
) -> Iterator[tuple[marc.ReadResult, str | None, Reject | None]]:
    """Each record read with its source id and, if it cannot enter the catalog, its reject
    (carrying the record's bytes for the rejects file)."""
    for result in results:
        if result.record is None:
            reject = Reject(
                position=result.position,
                source_id=result.source_id,  # a record over the size limits may have named itself
                reason=result.error or "unreadable",
                offset=result.offset,
                raw=result.raw,
            )
            yield result, reject.source_id, reject
            continue
        identifier = source_id(result.record)
        reason = validate(result.record)
        reject = (
            Reject(
                position=result.position,
                source_id=identifier,
                reason=reason,
                offset=result.offset,
                raw=result.raw or marc.serialize(result.record, fmt),
            )
            if reason
            else None
        )
        yield result, identifier, reject


def ingest(
    stream: BinaryIO,
    feed: FeedRef,
    *,
    sink: BatchSink,
    ledger: JobLedger,
    providers: ProviderDirectory,
    max_records: int = 50,
    max_bytes: int = 180_000,
    reject_flush: int = 25,
    resume: Checkpoint | None = None,
    should_pause: Callable[[], bool] = lambda: False,
) -> IngestSummary:
    """Read one feed file and send its records to matching, in bounded memory.

    `should_pause` is asked before each record; when it says so, what was read is sent and
    recorded and the summary carries a checkpoint instead of finishing the job. `resume`
    continues from a checkpoint: `stream` then starts at its byte offset, when it has one.
    """
    if resume is not None:
        feed = resume.feed  # as the file started (its drop time makes the batches' seen mark)
    job_id = job_id_for(feed.bucket, feed.key, feed.etag)
    summary = IngestSummary(job_id=job_id)
    summary.resume_from(resume)
    try:
        provider = provider_of(feed.key)
    except FeedError as exc:
        # Still a job, so that whoever dropped the file can read why nothing was ingested.
        ledger.start(FeedJob(job_id=job_id, provider="-", feed=feed, status="reading", started_at=now()))
        ledger.fail(job_id, str(exc))
        raise
    existing = ledger.start(
        FeedJob(job_id=job_id, provider=provider, feed=feed, status="reading", started_at=now())
    )
    if existing not in (None, "reading"):
        # This version of the file was read before (a redelivered S3 event): no work twice. A
        # job still "reading" is read again: its reader may have died, and every step after
        # reading is idempotent (batches by seq, rejects by position), so that is always safe.
        summary.already_read = True
        return summary
    # A continuation keeps what the provider was when the file started: a mid-read change of
    # feed mode or formats would split one file's records between two regimes.
    registered = (
        providers.feed_provider(provider)
        if resume is None
        else FeedProvider(code=provider, feed_mode=resume.feed_mode)
    )
    if registered is None:
        # Import control: only providers the central office registered may feed the network.
        reason = (
            f"provider {provider!r} is not registered in the network; the central office registers "
            "providers (POST /providers) before their feeds are accepted. Nothing was ingested."
        )
        ledger.fail(job_id, reason)
        raise FeedError(reason)
    try:
        compressed, stream = marc.peek_gzip(stream)
        fmt, opened = marc.open_feed(stream)
    except (marc.UnknownFormat, OSError, EOFError) as exc:
        ledger.fail(job_id, str(exc))
        raise FeedError(str(exc)) from exc
    summary.format = fmt
    if PROVIDER_FORMATS[fmt] not in registered.formats:
        reason = (
            f"this file is {PROVIDER_FORMATS[fmt]}, but provider {provider!r} is registered for "
            f"{', '.join(registered.formats)}; send one of those or update the provider. Nothing was ingested."
        )
        ledger.fail(job_id, reason)
        raise FeedError(reason)
    if fmt == "kbart":  # a KBART title list: its rows become electronic portfolios
        from netzone import portfolio_feed

        return portfolio_feed.ingest(
            opened,
            feed,
            job_id,
            provider,
            sink=sink,
            ledger=ledger,
            feed_mode=registered.feed_mode,
            max_records=max_records,
            max_bytes=max_bytes,
            resume=resume,
            should_pause=should_pause,
        )
    results = marc.read_opened(fmt, opened)
    seekable = not compressed and fmt in ("iso2709", "marc-json")
    if resume is not None:
        results = resumed(results, resume)
    batcher = feed_batcher(
        RecordBatch,
        "records",
        job_id,
        provider,
        feed,
        registered.feed_mode,
        sink,
        max_records,
        max_bytes,
        resume,
    )
    log = ReadLog(ledger, job_id, summary, reject_flush)
    read_here = 0
    for result, identifier, reject in screen(results, fmt):
        if reject is None:
            data = marc.record_to_marc_json(result.record)  # type: ignore[arg-type]
            size = len(json.dumps(data, ensure_ascii=False)) // 3  # MARC JSON compresses ~3:1 or better
            # Pause only where a batch ends anyway, so every run of the file numbers the same
            # records alike (a re-read from the start after a pause is then harmless), and only
            # after some progress, so a continuation never loops without reading.
            if read_here and batcher.would_flush(size) and should_pause():
                summary.pause(
                    feed, result.position - 1, result.offset if seekable else None, registered.feed_mode
                )
                break
        read_here += 1
        summary.records_read += 1
        if result.warnings:
            log.warn(result.position, identifier, result.warnings, result.offset)
        if reject is not None:
            log.reject(reject)
            continue
        batcher.add(BatchRecord(position=result.position, source_id=identifier or "", marc=data), size)
        summary.sent += 1
    batcher.flush()
    log.flush()
    summary.batches = batcher.seq
    if summary.checkpoint is not None:
        summary.checkpoint.seq = batcher.seq
        return summary
    ledger.finish_reading(
        job_id, summary.records_read, summary.rejected, fmt, summary.warned, feed_mode=registered.feed_mode
    )
    return summary


def resumed(results: Iterator[Any], resume: Checkpoint) -> Iterator[Any]:
    """The records (or KBART rows) after a checkpoint, numbered as in the whole file."""
    if resume.offset is None:  # re-read from the start: skip what was read before
        for result in results:
            if result.position > resume.position:
                yield result
        return
    for result in results:  # the stream starts at the checkpoint's byte offset
        offset = None if result.offset is None else result.offset + resume.offset
        yield dataclasses.replace(result, position=result.position + resume.position, offset=offset)


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


def check(stream: BinaryIO, *, max_rejects: int = 20, max_warnings: int = 20) -> CheckReport:
    """Read a feed with the same reader and validation as `ingest`, counting each record's fate.

    Offline and side-effect free (no AWS): every record read is counted as accepted or rejected,
    so `records_read == accepted + rejected` always holds, also when the file breaks off midway.
    """
    report = CheckReport()
    try:
        report.format, opened = marc.open_feed(stream)
        if report.format == "kbart":  # a KBART title list: its rows, read as ingest reads them
            from netzone import portfolio_feed

            return portfolio_feed.check(opened, report, max_rejects=max_rejects, max_warnings=max_warnings)
        results = marc.read_opened(report.format, opened)
        for result, identifier, reject in screen(results, report.format):
            report.tally(
                result.position, result.offset, identifier, result.warnings, reject, max_rejects, max_warnings
            )
    except marc.UnknownFormat as exc:
        report.error = str(exc)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        report.error = (
            f"the file could not be read to the end after {report.records_read} records "
            f"({type(exc).__name__}: {exc})"
        )
    if report.error is None and report.records_read == 0:
        report.error = f"no MARC records found in this {report.format} file"
    return report


def reason_kind(reason: str) -> str:
    """A reject reason without its record-specific numbers (positions, byte offsets), for
    counting rejects by kind; three-digit numbers are kept: they are MARC tags."""
    return re.sub(r"(?<![\w/-])(?:\d{1,2}|\d{4,})(?![\w-])", "N", reason.split(";", 1)[0])[:100]
