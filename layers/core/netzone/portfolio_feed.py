"""KBART feeds: from a provider's title list to portfolio batches on MatchQueue. Pure, no AWS.

`netzone.feeds.ingest` hands a feed here once `netzone.marc.open_feed` has recognised a KBART
header (plain or gzip). The rows are read one at a time (`netzone.kbart.read_kbart`), in
bounded memory; each row is either rejected here, with its position, title_id and reason, on
the job ledger, or sent in a `PortfolioBatch` to `record_match`, which files it as an
electronic portfolio (`netzone.portfolios`) and counts its outcome on the job. So, as for MARC
feeds, rows read = rejected on reading + outcomes counted by record_match.

A portfolio is identified by its provider and a portfolio id: the package, the title
(`kbart.source_id`: title_id, else derived from the identifiers) and the start of its coverage.
The same title may be in several packages of one provider, and KBART gives a title with a gap
in coverage of a year or more one row per range: each is a portfolio of its own.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Callable
from typing import BinaryIO, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from netzone import kbart
from netzone.feeds import (
    BatchSink,
    Checkpoint,
    CheckReport,
    FeedError,
    FeedMode,
    FeedRef,
    IngestSummary,
    JobLedger,
    ReadLog,
    Reject,
    default_mark,
    feed_batcher,
    pack_message,
    resumed,
    unpack_items,
)

FORMAT = "kbart"
MAX_PORTFOLIO_ID = 400
_TITLE_ID_COLUMN = kbart.COLUMNS.index("title_id")


def portfolio_id(portfolio: kbart.Portfolio) -> str:
    """The portfolio's id within its provider: `<package>|<title source id>|<coverage start>`."""
    start = portfolio.coverage[0].start_date if portfolio.coverage else None
    return f"{portfolio.package or ''}|{kbart.source_id(portfolio)}|{start or ''}"


class PortfolioRow(BaseModel):
    position: int  # the row's 1-based position in the file (header not counted)
    portfolio_id: str
    portfolio: dict  # kbart.Portfolio.to_dict()

    def to_portfolio(self) -> kbart.Portfolio:
        return kbart.Portfolio.from_dict(self.portfolio)


class PortfolioBatch(BaseModel):
    """One SQS message: a run of KBART rows from one feed, in file order (kind "portfolios")."""

    kind: Literal["portfolios"] = "portfolios"
    job_id: str
    provider: str
    seq: int = Field(ge=0)
    rows: list[PortfolioRow]
    # Full replacement: every row marks its portfolio as seen by this file (seen_job, with
    # `seen_mark`), so that what the file no longer holds can be withdrawn once the job is done.
    feed_mode: FeedMode = "incremental"
    seen_mark: str = ""

    _unpack = field_validator("rows", mode="before")(lambda cls, value: unpack_items(value))
    _mark = model_validator(mode="after")(lambda batch: default_mark(batch))

    def to_message(self) -> str:
        return pack_message(self, "rows")


def _title_id(raw: bytes) -> str | None:
    """title_id of a rejected row, when the row has that column and it reads as text."""
    cells = raw.decode("utf-8", errors="replace").split("\t")
    value = cells[_TITLE_ID_COLUMN].strip().strip('"').strip() if len(cells) > _TITLE_ID_COLUMN else ""
    return value[:200] if value and value.isprintable() else None


def ingest(
    stream: BinaryIO,
    feed: FeedRef,
    job_id: str,
    provider: str,
    *,
    sink: BatchSink,
    ledger: JobLedger,
    feed_mode: FeedMode = "incremental",
    max_records: int = 50,
    max_bytes: int = 180_000,
    reject_flush: int = 25,
    resume: Checkpoint | None = None,
    should_pause: Callable[[], bool] = lambda: False,
) -> IngestSummary:
    """Read a KBART file (already opened, gzip undone) into portfolio batches; the job is started.

    The package is the file name's (`kbart.package_from_filename`) unless a row names its own
    in a KBART Automation `package_name` column. Near the time limit a run pauses at a batch
    end, as `feeds.ingest` does; a continuation re-reads the list and skips the rows read.
    """
    summary = IngestSummary(job_id=job_id, format=FORMAT)
    summary.resume_from(resume)
    package = kbart.package_from_filename(feed.key).package
    try:
        results = kbart.read_kbart(stream, provider=provider, package=package)
    except (kbart.KbartHeaderError, OSError, EOFError) as exc:
        ledger.fail(job_id, str(exc))
        raise FeedError(str(exc)) from exc
    if resume is not None:
        results = resumed(results, resume)
    batcher = feed_batcher(
        PortfolioBatch, "rows", job_id, provider, feed, feed_mode, sink, max_records, max_bytes, resume
    )
    log = ReadLog(ledger, job_id, summary, reject_flush)
    read_here = 0
    for result in results:
        portfolio = result.portfolio
        if portfolio is not None and portfolio.extra.get("package_name"):
            portfolio = dataclasses.replace(portfolio, package=portfolio.extra["package_name"])
        identifier = portfolio_id(portfolio) if portfolio is not None else _title_id(result.raw)
        error = result.error
        if portfolio is not None and len(identifier or "") > MAX_PORTFOLIO_ID:
            error = f"package and title_id together are longer than {MAX_PORTFOLIO_ID} characters"
        data = portfolio.to_dict() if portfolio is not None and not error else None
        size = len(json.dumps(data, ensure_ascii=False)) // 3 if data is not None else 0
        # As in feeds.ingest: pause only where a batch ends anyway, after some progress, so
        # every run of the list numbers the same rows alike.
        if data is not None and read_here and batcher.would_flush(size) and should_pause():
            summary.pause(feed, result.position - 1, None, feed_mode)  # a KBART list is re-read
            break
        read_here += 1
        summary.records_read += 1
        if result.warnings:
            log.warn(result.position, identifier, result.warnings, result.offset)
        if data is None:
            log.reject(
                Reject(
                    position=result.position,
                    source_id=identifier,
                    reason=error or "unreadable",
                    offset=result.offset,
                    raw=result.raw or None,  # the row as sent, for the rejects file
                )
            )
            continue
        row = PortfolioRow(position=result.position, portfolio_id=identifier or "", portfolio=data)
        batcher.add(row, size)
        summary.sent += 1
    batcher.flush()
    log.flush()
    summary.batches = batcher.seq
    if summary.checkpoint is not None:
        summary.checkpoint.seq = batcher.seq
        return summary
    ledger.finish_reading(
        job_id, summary.records_read, summary.rejected, FORMAT, summary.warned, feed_mode=feed_mode
    )
    return summary


def check(
    stream: BinaryIO, report: CheckReport, *, max_rejects: int = 20, max_warnings: int = 20
) -> CheckReport:
    """`feeds.check` for a KBART file (already opened): every row counted as accepted or rejected."""
    try:
        for result in kbart.read_kbart(stream):
            identifier = kbart.source_id(result.portfolio) if result.portfolio else _title_id(result.raw)
            reject = (
                None
                if result.error is None
                else Reject(
                    position=result.position, source_id=identifier, reason=result.error, offset=result.offset
                )
            )
            report.tally(
                result.position, result.offset, identifier, result.warnings, reject, max_rejects, max_warnings
            )
    except kbart.KbartHeaderError as exc:
        report.error = str(exc)
    except (OSError, EOFError, zlib.error) as exc:
        report.error = (
            f"the file could not be read to the end after {report.records_read} rows "
            f"({type(exc).__name__}: {exc})"
        )
    if report.error is None and report.records_read == 0:
        report.error = "no rows after the KBART header row"
    return report
