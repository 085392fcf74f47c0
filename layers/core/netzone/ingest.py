"""Ingest: from a provider's file to batches on MatchQueue, every record accounted for.

A feed is `feeds/<provider>/<file>` in the feed bucket; its job is one version of that object
(`netzone.jobs`). Ingest reads the file once, in bounded memory, whatever its format: MARC
records (`netzone.screening.MarcRecords`) or KBART rows (`netzone.kbart_ingest.KbartRows`) go
through the same read loop, which rejects what cannot enter the catalog with a reason, sends
the rest in batches (`netzone.batches`), and counts both on the job; `record_match` counts each
sent record's outcome. Only registered providers feed (`netzone.providers`). A run near its
time limit pauses at a batch end and leaves a `Checkpoint`; finishing the job is
`netzone.completion`'s. `check` reads a file as ingest would, offline, and sends nothing.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal, TypeVar

from pydantic import BaseModel, Field

from netzone import kbart_ingest, marc
from netzone.batches import BatchSink, PortfolioBatch, RecordBatch, seen_mark
from netzone.clock import now
from netzone.jobs import (
    MAX_REJECTS_FILE_BYTES,
    FeedError,
    FeedJob,
    FeedMode,
    FeedRef,
    FileRead,
    JobLedger,
    RecordWarning,
    Reject,
    job_id_for,
)
from netzone.providers import PROVIDER_FORMATS, FeedProvider, ProviderDirectory, provider_of
from netzone.screening import CheckReport, FeedReader, MarcRecords, Screened, screen

Note = TypeVar("Note", Reject, RecordWarning)


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
    """What one run of ingest did: counts so far (carried on by continuations), the first
    rejects and warnings for the log, and the checkpoint when it paused."""

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


# ---------------------------------------------------------------- batching and the read log


def feed_batcher(
    model: type[RecordBatch] | type[PortfolioBatch],
    job_id: str,
    provider: str,
    feed: FeedRef,
    feed_mode: FeedMode,
    sink: BatchSink,
    max_items: int,
    max_bytes: int,
    resume: Checkpoint | None,
) -> Batcher:
    """The Batcher of one file's messages (`model`: RecordBatch, PortfolioBatch): numbered on
    from a checkpoint, each with the file's feed mode and seen mark."""
    mark = seen_mark(job_id, feed)

    def make_batch(seq: int, batch_items: list) -> RecordBatch | PortfolioBatch:
        return model(
            job_id=job_id,
            provider=provider,
            seq=seq,
            feed_mode=feed_mode,
            seen_mark=mark,
            **{model.items_field: batch_items},
        )

    return Batcher(make_batch, sink, max_items, max_bytes, seq=resume.seq if resume is not None else 0)


@dataclass
class Batcher:
    """Items into batches bounded by count and by (estimated compressed) size, sent in order;
    `make_batch(seq, items)` builds the message (record batches, portfolio batches)."""

    make_batch: Callable[[int, list], RecordBatch | PortfolioBatch]
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
            self.sink.send(self.make_batch(self.seq, self.pending))
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
        self._keep(note, self.summary.warnings, self.warnings)

    def reject(self, reject: Reject) -> None:
        raw = reject.raw
        if raw is not None:
            # The rejects file's cap holds here already: bytes past it are not stored at all.
            if self.summary.raw_kept + len(raw) > MAX_REJECTS_FILE_BYTES:
                reject = reject.model_copy(update={"raw": None})
                self.summary.raw_kept = MAX_REJECTS_FILE_BYTES  # full: the file keeps feed order
            else:
                self.summary.raw_kept += len(raw)
        self.summary.rejected += 1
        self._keep(reject, self.summary.rejects, self.rejects)

    def _keep(self, note: Note, first: list[Note], pending: list[Note]) -> None:
        """One of the first few on the summary; written to the ledger with the next flush."""
        if len(first) < 10:
            first.append(note)
        pending.append(note)
        if len(pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self.rejects:
            self.ledger.add_rejects(self.job_id, self.rejects)
            self.rejects = []
        if self.warnings:
            self.ledger.add_warnings(self.job_id, self.warnings)
            self.warnings = []


# ---------------------------------------------------------------- ingest


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
    try:
        registered = _registered(provider, providers, resume)
        reader = _reader(stream, feed.key, provider, registered)
    except FeedError as exc:
        ledger.fail(job_id, str(exc))
        raise
    summary.format = reader.format
    batcher = feed_batcher(
        reader.batch, job_id, provider, feed, registered.feed_mode, sink, max_records, max_bytes, resume
    )
    log = ReadLog(ledger, job_id, summary, reject_flush)
    results = reader.results if resume is None else resumed(reader.results, resume)
    paused = _read((reader.screen(result) for result in results), summary, batcher, log, should_pause)
    if paused is not None:  # stop before that record: a new invocation goes on from there
        offset = paused.offset if reader.offsets else None
        summary.pause(feed, paused.position - 1, offset, registered.feed_mode)
    batcher.flush()
    log.flush()
    summary.batches = batcher.seq
    if summary.checkpoint is not None:
        summary.checkpoint.seq = batcher.seq
        return summary
    ledger.finish_reading(
        job_id,
        FileRead(
            records_read=summary.records_read,
            rejected=summary.rejected,
            warned=summary.warned,
            format=reader.format,
            feed_mode=registered.feed_mode,
        ),
    )
    return summary


def _registered(provider: str, providers: ProviderDirectory, resume: Checkpoint | None) -> FeedProvider:
    """The provider as registered; a continuation keeps what the provider was when the file
    started: a mid-read change of feed mode or formats would split one file's records between
    two regimes."""
    if resume is not None:
        return FeedProvider(code=provider, feed_mode=resume.feed_mode)
    registered = providers.feed_provider(provider)
    if registered is None:
        # Import control: only providers the central office registered may feed the network.
        raise FeedError(
            f"provider {provider!r} is not registered in the network; the central office registers "
            "providers (POST /providers) before their feeds are accepted. Nothing was ingested."
        )
    return registered


def _reader(stream: BinaryIO, key: str, provider: str, registered: FeedProvider) -> FeedReader[Any]:
    """The format-specific part of reading the file: its format recognised (plain or gzip) and
    allowed for the provider."""
    try:
        compressed, stream = marc.peek_gzip(stream)
        fmt, opened = marc.open_feed(stream)
    except (marc.UnknownFormat, OSError, EOFError) as exc:
        raise FeedError(str(exc)) from exc
    if PROVIDER_FORMATS[fmt] not in registered.formats:
        raise FeedError(
            f"this file is {PROVIDER_FORMATS[fmt]}, but provider {provider!r} is registered for "
            f"{', '.join(registered.formats)}; send one of those or update the provider. Nothing was ingested."
        )
    if fmt == "kbart":  # a KBART title list: its rows become electronic portfolios
        return kbart_ingest.rows(opened, key, provider)
    seekable = not compressed and fmt in ("iso2709", "marc-json")
    return MarcRecords(fmt, marc.read_opened(fmt, opened), offsets=seekable)


def _read(
    screened: Iterable[Screened],
    summary: IngestSummary,
    batcher: Batcher,
    log: ReadLog,
    should_pause: Callable[[], bool],
) -> Screened | None:
    """The read loop, the same for every format: each record (or row) counted, its warnings and
    reject logged, an accepted one batched. Returns the record it paused before, if it did."""
    read_here = 0
    for one in screened:
        # Pause only where a batch ends anyway, so every run of the file numbers the same
        # records alike (a re-read from the start after a pause is then harmless), and only
        # after some progress, so a continuation never loops without reading.
        if one.reject is None and read_here and batcher.would_flush(one.size) and should_pause():
            return one
        read_here += 1
        summary.records_read += 1
        if one.warnings:
            log.warn(one.position, one.source_id, one.warnings, one.offset)
        if one.reject is not None:
            log.reject(one.reject)
            continue
        batcher.add(one.item, one.size)
        summary.sent += 1
    return None


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


def check(stream: BinaryIO, *, max_rejects: int = 20, max_warnings: int = 20) -> CheckReport:
    """Read a feed with the same reader and validation as `ingest`, counting each record's fate.

    Offline and side-effect free (no AWS): every record read is counted as accepted or rejected,
    so `records_read == accepted + rejected` always holds, also when the file breaks off midway.
    """
    report = CheckReport()
    try:
        report.format, opened = marc.open_feed(stream)
        if report.format == "kbart":  # a KBART title list: its rows, read as ingest reads them
            return kbart_ingest.check(opened, report, max_rejects=max_rejects, max_warnings=max_warnings)
        for result in marc.read_opened(report.format, opened):
            identifier, reject = screen(result, report.format)
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
