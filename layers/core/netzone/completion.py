"""Finishing a feed job: full-replacement withdrawals, the report and rejects objects, the event.

A job is ready to finish once reading is done and every accepted record has its outcome
(`matched == accepted`). Finishing runs in `record_match`, driven by small `JobStep` messages
on MatchQueue, so every step is retried and idempotent like a record batch:

1. `finish`: a full-replacement provider's job moves to `withdrawing` and the first
   `withdraw_absent` step is queued; any other job completes at once.
2. `withdraw_absent` (one page of the provider's catalog index per step): every source record
   (MARC file) or portfolio (KBART file) of the provider that this job's file did not hold
   (its `seen_mark` is older than this file's, `batches.seen_mark`) is withdrawn; what a
   newer file of the provider already holds is kept. The last page completes the job.
3. Completing writes `reports/<provider>/<file>.json` (counts, timings, every reject with its
   position, source id and reason), `reports/<provider>/<file>.records.jsonl` (each accepted
   record's outcome and the network record that holds it) and, when something was rejected,
   `rejects/<provider>/<file>` (the rejected records as sent, ready to fix and resend), then
   publishes `FeedCompleted` and marks the job completed (`completed_with_failures` when some
   records `failed`: record_match gave up on their batch, `netzone.dead_letters`). The event
   is published before the status changes, so it is never lost; a consumer may see it twice
   and dedupes on `job_id`.

A failed job (unknown provider, unreadable file, a finishing step that kept failing) gets its
report and event too.
"""

from __future__ import annotations

import json
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Literal, Protocol

from pydantic import BaseModel, Field

from netzone import kbart, marc
from netzone.batches import seen_mark
from netzone.clock import now
from netzone.jobs import (
    MAX_REJECTS_FILE_BYTES,
    MAX_REPORT_REJECTS,
    FeedJob,
    FiledRecord,
    RecordWarning,
    Reject,
)
from netzone.screening import reason_kind

# How a rejects file holds records of each feed format: extension, header, separator, footer.
# KBART rows go under the Phase II header: a KBART rejects file is itself a KBART file.
REJECTS_LAYOUT = {
    **marc.REJECTS_LAYOUT,
    "kbart": ("txt", "\t".join(kbart.COLUMNS).encode() + b"\n", b"\n", b"\n"),
}
WITHDRAW_PAGE = 200  # catalog index entries examined per withdraw_absent step
EVENT_SOURCE = "netzone.feeds"


class JobStep(BaseModel):
    """A control message on MatchQueue: move a feed job towards completion."""

    kind: Literal["finish", "withdraw_absent"]
    job_id: str
    after: str | None = None  # where the previous withdraw_absent page ended
    page: int = Field(default=0, ge=0)

    @property
    def seq(self) -> str:  # for logs and message attributes, like a record batch's seq
        return f"{self.kind}:{self.page}"

    def to_message(self) -> str:
        return self.model_dump_json(exclude_none=True)


# ---------------------------------------------------------------- ports


class FinishingLedger(Protocol):
    def get(self, job_id: str, max_rejects: int = 100) -> FeedJob | None: ...
    def advance(self, job_id: str, from_status: str, to_status: str, **fields: object) -> bool: ...
    def all_rejects(self, job_id: str) -> Iterator[Reject]: ...
    def all_filed(self, job_id: str) -> Iterator[FiledRecord]: ...
    def rejected_source_ids(self, job_id: str) -> set[str]: ...
    def all_warnings(self, job_id: str) -> Iterator[RecordWarning]: ...
    def count_withdrawn_absent(self, job_id: str, page: int, withdrawn: int) -> bool: ...
    def mark_reported(self, job_id: str, report_key: str, rejects_key: str | None) -> bool: ...


class ProviderHoldings(Protocol):
    def unseen(
        self, provider: str, mark: str, after: str | None, limit: int, kind: str = "source"
    ) -> tuple[list[tuple[str, str]], str | None]:
        """One page of what the provider's feeds put in the catalog and no file as new as the
        seen mark `mark` holds: (kind, id) pairs of one kind ("source" records from MARC files,
        or "portfolio"s from KBART files) and where the next page starts."""
        ...


class AbsentWithdrawer(Protocol):
    def withdraw_absent(self, provider: str, kind: str, item_id: str, job_id: str, mark: str) -> bool:
        """Withdraw one item a full-replacement file (seen mark `mark`) no longer holds, unless
        that file or a newer one does; True when `job_id` withdrew it (now or on an earlier
        try), False when it was gone already or is held."""
        ...


class SourceWithdrawer(Protocol):
    def withdraw_source(
        self, provider: str, source_id: str, job_id: str, position: int = 0, unless_seen: str | None = None
    ) -> bool: ...


class PortfolioWithdrawer(Protocol):
    def withdraw(
        self, provider: str, source_id: str, job_id: str, unless_seen: str | None = None
    ) -> bool: ...


@dataclass
class CatalogWithdrawer:
    """An AbsentWithdrawer over the catalog: source records through the filer, portfolios
    through the portfolio filer."""

    sources: SourceWithdrawer
    portfolios: PortfolioWithdrawer

    def withdraw_absent(self, provider: str, kind: str, item_id: str, job_id: str, mark: str) -> bool:
        if kind == "portfolio":
            return self.portfolios.withdraw(provider, item_id, job_id, unless_seen=mark)
        return self.sources.withdraw_source(provider, item_id, job_id, unless_seen=mark)


class ReportStore(Protocol):
    def put(self, key: str, body: IO[bytes], content_type: str) -> str:
        """Store an object; returns its address (s3://bucket/key)."""
        ...


class EventBus(Protocol):
    def publish(self, source: str, detail_type: str, detail: dict) -> None: ...


class StepSink(Protocol):
    def send(self, message: JobStep) -> None: ...


# ---------------------------------------------------------------- object names


def report_key(feed_key: str) -> str:
    """`feeds/<provider>/<file>` -> `reports/<provider>/<file>.json`."""
    return "reports/" + _under_feeds(feed_key) + ".json"


def records_key(feed_key: str) -> str:
    """`feeds/<provider>/<file>` -> `reports/<provider>/<file>.records.jsonl`."""
    return "reports/" + _under_feeds(feed_key) + ".records.jsonl"


def rejects_key(feed_key: str, fmt: str | None) -> str:
    """`feeds/<provider>/<file>[.gz]` -> `rejects/<provider>/<file>`, with the format's
    extension when the file name lacks it (rejects files are never compressed)."""
    name = _under_feeds(feed_key)
    if name.endswith(".gz"):
        name = name[:-3]
    extension = REJECTS_LAYOUT.get(fmt or "", ("dat",))[0]
    if posixpath.splitext(name)[1].lower() != f".{extension}":
        name += f".{extension}"
    return "rejects/" + name


def _under_feeds(feed_key: str) -> str:
    return feed_key[len("feeds/") :] if feed_key.startswith("feeds/") else feed_key


# ---------------------------------------------------------------- the finisher


@dataclass
class FeedFinisher:
    """Finishes feed jobs one idempotent step at a time: a full-replacement feed's withdrawals
    page by page, then the report, the rejects file and the `FeedCompleted` event."""

    ledger: FinishingLedger
    holdings: ProviderHoldings
    withdrawer: AbsentWithdrawer
    reports: ReportStore
    events: EventBus
    steps: StepSink

    def step(self, message: JobStep) -> str:
        """Carry out one step; returns what happened (for the log)."""
        job = self.ledger.get(message.job_id, max_rejects=0)
        if job is None:
            return "unknown job"
        if message.kind == "finish":
            return self._finish(job)
        return self._withdraw_page(job, message)

    def _finish(self, job: FeedJob) -> str:
        if job.status == "failed":
            if job.report_key:
                return "failed job already reported"
            report, rejects = self._write_report(job, completed_at=job.completed_at or now())
            self._publish(job, report, rejects)
            self.ledger.mark_reported(job.job_id, _key_of(report), _key_of(rejects) if rejects else None)
            return "failed job reported"
        if job.status != "matching" or job.accepted is None or job.matched < job.accepted:
            return f"not ready ({job.status}, {job.matched} of {job.accepted} matched)"
        if job.feed_mode == "full" and job.accepted > 0:
            if self.ledger.advance(job.job_id, "matching", "withdrawing"):
                self.steps.send(JobStep(kind="withdraw_absent", job_id=job.job_id))
                return "withdrawing what the file no longer holds"
            return "already withdrawing"
        return self._complete(job, "matching")

    def _withdraw_page(self, job: FeedJob, message: JobStep) -> str:
        if job.status != "withdrawing":
            return f"not withdrawing ({job.status})"
        # A record the file held but that was rejected is still the provider's: keep it (a
        # portfolio id is package|title_id|start; a rejected KBART row names its title_id).
        kept = self.ledger.rejected_source_ids(job.job_id)
        # A MARC file replaces the provider's source records, a KBART file its portfolios (the
        # brief records made from KBART rows go with their last portfolio).
        kind = "portfolio" if job.format == "kbart" else "source"
        mark = seen_mark(job.job_id, job.feed)
        items, after = self.holdings.unseen(job.provider, mark, message.after, WITHDRAW_PAGE, kind)
        withdrawn = sum(
            self.withdrawer.withdraw_absent(job.provider, kind, item_id, job.job_id, mark)
            for kind, item_id in items
            if not _held_by_reject(kind, item_id, kept)
        )
        self.ledger.count_withdrawn_absent(job.job_id, message.page, withdrawn)
        if after is not None:
            self.steps.send(
                JobStep(kind="withdraw_absent", job_id=job.job_id, after=after, page=message.page + 1)
            )
            return f"withdrew {withdrawn}; more to examine"
        job = self.ledger.get(job.job_id, max_rejects=0) or job  # with the final absent count
        return self._complete(job, "withdrawing")

    def _complete(self, job: FeedJob, from_status: str) -> str:
        completed_at = now()
        # Records record_match gave up on (netzone.dead_letters) are accounted, not filed: the
        # status says so, so that nobody takes the job for a clean one.
        status = "completed_with_failures" if job.counts.get("failed") else "completed"
        job = job.model_copy(update={"status": status, "completed_at": completed_at})
        report, rejects = self._write_report(job, completed_at)
        self._publish(job, report, rejects)
        changed = self.ledger.advance(
            job.job_id,
            from_status,
            status,
            completed_at=completed_at,
            report_key=_key_of(report),
            rejects_key=_key_of(rejects) if rejects else None,
        )
        return status if changed else f"{status} elsewhere"

    # -- the report and the rejects file, written in one pass over the rejects, in bounded memory
    def _write_report(self, job: FeedJob, completed_at: str) -> tuple[str, str | None]:
        layout = REJECTS_LAYOUT.get(job.format or "", ("dat", b"", b"\n", b""))
        _, header, separator, footer = layout
        records_address = self._write_records(job)
        reasons: dict[str, int] = {}
        held = n = size = 0
        full = False  # the rejects file is at its cap: it holds the first rejected records, in order
        with (
            tempfile.SpooledTemporaryFile(max_size=8 << 20) as report,
            tempfile.SpooledTemporaryFile(max_size=8 << 20) as raw,
        ):
            head = json.dumps(_summary(job, completed_at), ensure_ascii=False, indent=1)
            report.write(head[:-2].encode() + b',\n "rejects": [')
            for reject in self.ledger.all_rejects(job.job_id):
                entry = reject.model_dump(exclude_none=True)
                if reject.raw is not None and not full:
                    piece = (header if held == 0 else separator) + reject.raw
                    full = size + len(piece) + len(footer) > MAX_REJECTS_FILE_BYTES
                    if not full:
                        held += 1
                        size += len(piece)
                        entry["in_rejects_file"] = held  # its ordinal in the rejects file
                        raw.write(piece)
                reasons[reason_kind(reject.reason)] = reasons.get(reason_kind(reject.reason), 0) + 1
                if n < MAX_REPORT_REJECTS:  # the first ones listed, each bounded (jobs.Reject)
                    report.write(
                        (b"," if n else b"") + b"\n  " + json.dumps(entry, ensure_ascii=False).encode()
                    )
                n += 1
            warnings = [w.model_dump(exclude_none=True) for w in _first(self.ledger.all_warnings(job.job_id))]
            report.write(b"\n ],\n")
            tail = {
                # Caps (netzone.jobs): what the report and the rejects file leave out, counted.
                "rejects_left_out": max(0, n - MAX_REPORT_REJECTS),
                "rejects_file_left_out": n - held,
                "reject_reasons": reasons,
                # Each accepted record's outcome and network record, a JSON line each.
                "records_file": records_address,
                "warnings": warnings,
            }
            report.write(json.dumps(tail, ensure_ascii=False, indent=1)[2:].encode())
            report.seek(0)
            report_address = self.reports.put(report_key(job.feed.key), report, "application/json")
            rejects_address = None
            if held:
                raw.write(footer)
                raw.seek(0)
                rejects_address = self.reports.put(
                    rejects_key(job.feed.key, job.format), raw, "application/octet-stream"
                )
        return report_address, rejects_address

    def _write_records(self, job: FeedJob) -> str | None:
        """The records file: what became of every accepted record, one JSON line each
        (position, source_id, outcome, network_record, review_task), streamed from the job."""
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as lines:
            for filed in self.ledger.all_filed(job.job_id):
                lines.write(filed.model_dump_json(exclude_none=True).encode() + b"\n")
            if not lines.tell():
                return None
            lines.seek(0)
            return self.reports.put(records_key(job.feed.key), lines, "application/x-ndjson")

    def _publish(self, job: FeedJob, report: str, rejects: str | None) -> None:
        detail = {
            "job_id": job.job_id,
            "provider": job.provider,
            "feed": job.feed.model_dump(exclude_none=True),
            "status": job.status,
            "format": job.format,
            "records_read": job.records_read,
            "counts": job.counts,
            "withdrawn_absent": job.withdrawn_absent,
            "report": report,
            "rejects": rejects,
            "error": job.error,
        }
        self.events.publish(EVENT_SOURCE, "FeedCompleted", detail)


def _held_by_reject(kind: str, item_id: str, rejected: set[str]) -> bool:
    """Whether a rejected record of the file is this item: a source by its id, a portfolio
    (package|title_id|coverage start) by its title_id."""
    if kind == "portfolio":
        parts = item_id.split("|")
        return len(parts) > 1 and parts[1] in rejected
    return item_id in rejected


def _key_of(address: str) -> str:
    """s3://bucket/key -> key."""
    return address.split("/", 3)[3] if address.startswith("s3://") else address


def _first(warnings: Iterator[RecordWarning], limit: int = 1000) -> list[RecordWarning]:
    found: list[RecordWarning] = []
    for warning in warnings:
        if len(found) == limit:
            break
        found.append(warning)
    return found


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = datetime.fromisoformat
    return round((parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds(), 3)


def _summary(job: FeedJob, completed_at: str) -> dict:
    counted = sum(job.counts.values())
    return {
        "job_id": job.job_id,
        "provider": job.provider,
        "feed": job.feed.model_dump(exclude_none=True),
        "status": job.status,
        "format": job.format,
        "feed_mode": job.feed_mode,
        "error": job.error,
        "records_read": job.records_read,
        "counts": job.counts,
        # Every record read ends in exactly one outcome.
        "accounted": job.records_read is not None and counted == job.records_read,
        "withdrawn_absent": job.withdrawn_absent,
        "records_with_warnings": job.records_with_warnings,
        "timings": {
            "started_at": job.started_at,
            "read_at": job.read_at,
            "completed_at": completed_at,
            "reading_seconds": _seconds(job.started_at, job.read_at),
            "total_seconds": _seconds(job.started_at, completed_at),
        },
    }
