"""Feed jobs: one job per version of a dropped file, the outcome of every record it held, and
the ledger that keeps them (`JobLedger`, the jobs table on AWS).

A job's id is derived from the bucket, key and ETag, so a redelivered S3 event finds the same
job and a changed re-drop of the same key is a new job. Reading counts the records read and
rejected (`netzone.ingest`), `record_match` counts each accepted record's outcome, and
`netzone.completion` finishes the job. Rejects and warnings are bounded here, whatever a
hostile file holds.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, field_validator

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
# A provider's feed mode: each file adds and changes records, or replaces all the provider sent.
FeedMode = Literal["incremental", "full"]

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


def job_id_for(bucket: str, key: str, etag: str) -> str:
    """The feed job of one version of one object: same drop, same job."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{etag.strip(chr(34))}".encode()).hexdigest()
    return digest[:20]


class FeedRef(BaseModel):
    """The file a job reads: one version of one object in the feed bucket."""

    bucket: str
    key: str
    etag: str
    size: int | None = None
    version_id: str | None = None
    dropped_at: str | None = None  # the S3 event's time: orders a provider's files


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


class FiledRecord(BaseModel):
    """What became of one accepted record of a file: its outcome and the network record (cluster)
    that holds it, or the review task that asks about it. The job keeps one list a batch; the
    finished job's records file lists them all, so a provider can go from a record it sent to
    the network record."""

    position: int
    source_id: str
    outcome: Outcome
    network_record: str | None = None
    review_task: str | None = None

    def packed(self) -> list[Any]:
        return [self.position, self.source_id, self.outcome, self.network_record, self.review_task]

    @classmethod
    def unpacked(cls, row: list[Any]) -> FiledRecord:
        position, source_id, outcome, network_record, review_task = row
        return cls(
            position=position,
            source_id=source_id,
            outcome=outcome,
            network_record=network_record,
            review_task=review_task,
        )


class FileRead(BaseModel):
    """What reading a whole file found: the counts a job keeps once its last record is read."""

    records_read: int
    rejected: int
    warned: int = 0
    format: str
    feed_mode: FeedMode = "incremental"

    @property
    def accepted(self) -> int:
        return self.records_read - self.rejected


class JobLedger(Protocol):
    """Where reading a file records its job: started, rejects and warnings, read, or failed."""

    def start(self, job: FeedJob) -> str | None:
        """Create the job; None when created, else the status of the job already there."""
        ...

    def add_rejects(self, job_id: str, rejects: list[Reject]) -> None: ...
    def add_warnings(self, job_id: str, warnings: list[RecordWarning]) -> None: ...
    def finish_reading(self, job_id: str, read: FileRead) -> None: ...
    def fail(self, job_id: str, reason: str) -> None: ...
