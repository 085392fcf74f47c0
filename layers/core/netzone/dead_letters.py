"""Dead-lettered MatchQueue messages: no feed job is left unaccounted. Pure, no AWS.

When record_match fails on a message, it notes why on the message's job (`note_failure`: the
exception's type and a short message, the number of failures) and lets SQS deliver it again.
After the queue's maxReceiveCount (five) deliveries SQS moves it to MatchDeadLetterQueue:
MatchDeadLetterAlarm fires, and `match_dead_letter` hands it to the `DeadLetterAccountant`:

- a record or portfolio batch: each of its records (rows) is counted on the job as `failed`,
  once per batch (the BATCH#<seq> marker record_match's counting uses, so a batch counted
  before counts nothing twice), and listed with its position, source id and the reason noted
  ("record_match failed 5 times on this record's batch: ..."; "reason unknown" when every try
  timed out or crashed). MARC records are kept as sent for the rejects file. Then the job's
  finish step runs: once every record has its outcome the job ends `completed_with_failures`,
  with its report, rejects file and FeedCompleted event, like any other job.
- a step that finishes a job (`netzone.completion.JobStep`): the job fails with the reason
  and gets its report and event, as a failed job does.

A failed record may be partly in the catalog (records before the one that broke the batch were
filed); resending it is always safe: what the catalog holds comes back `unchanged`. A record
that failed is the provider's still: a full-replacement sweep keeps it, as it keeps rejects.

Accounting is idempotent, so a dead letter delivered twice counts once. If it raises (the
report cannot be written, say), the message stays in the dead-letter queue and is tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol

from pydantic import Field, TypeAdapter, ValidationError

from netzone import marc
from netzone.batches import PortfolioBatch, RecordBatch
from netzone.clock import now
from netzone.completion import JobStep
from netzone.jobs import FINISHED, FeedJob, FiledRecord, Reject

# What travels on MatchQueue: record batches, portfolio batches, and the steps finishing a job.
MatchMessage = Annotated[RecordBatch | PortfolioBatch | JobStep, Field(discriminator="kind")]
_MESSAGE: TypeAdapter[RecordBatch | PortfolioBatch | JobStep] = TypeAdapter(MatchMessage)

REASON_LIMIT = 300  # characters of an exception's message kept: enough to act on, no record dumps
UNKNOWN = "reason unknown: every try timed out or its worker crashed"


def failure_reason(error: BaseException) -> str:
    """The exception's type and message on one line, cut to REASON_LIMIT characters."""
    text = " ".join(str(error).split())
    reason = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"


def subject(message: RecordBatch | PortfolioBatch | JobStep) -> str:
    """What failed, within its job: a batch by its number, a step by its kind and page."""
    if isinstance(message, JobStep):
        return f"step {message.kind} {message.page}"
    return f"batch {message.seq:08d}"


# ---------------------------------------------------------------- ports


class FailureLedger(Protocol):
    """The parts of the jobs ledger that dead letters need."""

    def note_failure(self, job_id: str, subject: str, reason: str) -> int:
        """Keep the latest reason record_match failed on `subject`; the failures so far."""
        ...

    def failure(self, job_id: str, subject: str) -> tuple[int, str] | None: ...
    def batch_counted(self, job_id: str, seq: int) -> bool: ...
    def record_outcomes(
        self,
        job_id: str,
        seq: int,
        counts: dict[str, int],
        rejects: list[Reject],
        filed: Sequence[FiledRecord] = (),
    ) -> bool: ...
    def get(self, job_id: str, max_rejects: int = 100) -> FeedJob | None: ...
    def advance(self, job_id: str, from_status: str, to_status: str, **fields: object) -> bool: ...


class Finisher(Protocol):
    def step(self, message: JobStep) -> str: ...


class NoWithdrawals:
    """Holdings and withdrawer of a finisher that only finishes: a dead letter's finish step
    leaves a full-replacement job's withdrawals to record_match (a withdraw_absent step on
    MatchQueue), so the dead-letter function needs no access to the catalog."""

    def unseen(self, *args: object, **kwargs: object) -> tuple[list[tuple[str, str]], str | None]:
        raise RuntimeError("withdrawals are record_match's: send a withdraw_absent step instead")

    def withdraw_absent(self, *args: object, **kwargs: object) -> bool:
        raise RuntimeError("withdrawals are record_match's: send a withdraw_absent step instead")


def note_failure(
    ledger: FailureLedger, message: RecordBatch | PortfolioBatch | JobStep, error: BaseException
) -> int | None:
    """record_match, before it lets a message fail: why, on the job. Best effort: a ledger
    that cannot be written never hides the error itself (None then)."""
    try:
        return ledger.note_failure(message.job_id, subject(message), failure_reason(error))
    except Exception:
        return None


# ---------------------------------------------------------------- accounting


@dataclass
class Accounted:
    """What one dead letter came to (for the log and the metrics)."""

    job_id: str | None
    kind: str  # records, portfolios, finish, withdraw_absent, unreadable
    failed: int = 0  # records or rows counted `failed` now (0 when counted before)
    result: str = ""


@dataclass
class DeadLetterAccountant:
    ledger: FailureLedger
    finisher: Finisher

    def account(self, body: str, job_id: str | None = None) -> Accounted:
        """Account one dead-lettered message; `job_id` (its message attribute) names the job
        when the body cannot be read."""
        try:
            message = _MESSAGE.validate_json(body)
        except ValidationError as error:
            return self._unreadable(job_id, error)
        if isinstance(message, JobStep):
            return self._step(message)
        return self._batch(message)

    def _batch(self, batch: RecordBatch | PortfolioBatch) -> Accounted:
        job = self.ledger.get(batch.job_id, max_rejects=0)
        if job is None:
            return Accounted(batch.job_id, batch.kind, result="unknown job")
        failed = 0
        if not self.ledger.batch_counted(batch.job_id, batch.seq):
            rejects = failed_records(batch, self._reason(batch, "this record's batch"), job.format)
            filed = [
                FiledRecord(position=r.position, source_id=r.source_id or "", outcome="failed")
                for r in rejects
            ]
            if self.ledger.record_outcomes(batch.job_id, batch.seq, {"failed": len(rejects)}, rejects, filed):
                failed = len(rejects)
        # The batch that gives the last record its outcome finishes the job, as in record_match.
        finished = self.finisher.step(JobStep(kind="finish", job_id=batch.job_id))
        return Accounted(batch.job_id, batch.kind, failed, finished)

    def _step(self, step: JobStep) -> Accounted:
        what = "finishing the job" if step.kind == "finish" else "withdrawing what the file no longer holds"
        result = self._fail(step.job_id, f"{what}: {self._reason(step, f'step {step.seq}')}")
        return Accounted(step.job_id, step.kind, result=result)

    def _unreadable(self, job_id: str | None, error: ValidationError) -> Accounted:
        if not job_id:
            return Accounted(None, "unreadable", result="no job named: nothing to account")
        result = self._fail(
            job_id, f"a message of this job on MatchQueue could not be read ({failure_reason(error)})"
        )
        return Accounted(job_id, "unreadable", result=result)

    def _fail(self, job_id: str, reason: str) -> str:
        """Fail a job that is not finished yet, then write its report and publish its event."""
        for _ in range(3):  # the status may move between the read and the conditional write
            job = self.ledger.get(job_id, max_rejects=0)
            if job is None:
                return "unknown job"
            if job.status in FINISHED:
                break
            if self.ledger.advance(job_id, job.status, "failed", error=reason, completed_at=now()):
                break
        return self.finisher.step(JobStep(kind="finish", job_id=job_id))

    def _reason(self, message: RecordBatch | PortfolioBatch | JobStep, what: str) -> str:
        noted = self.ledger.failure(message.job_id, subject(message))
        if noted is None:
            return f"record_match gave up on {what} ({UNKNOWN})"
        attempts, reason = noted
        return f"record_match failed {attempts} time{'' if attempts == 1 else 's'} on {what}: {reason}"


def failed_records(batch: RecordBatch | PortfolioBatch, reason: str, fmt: str | None) -> list[Reject]:
    """Each record (row) of a batch as a `failed` entry: position, source id, reason, and a MARC
    record's bytes in the feed's format `fmt` for the rejects file (none while the job is still
    reading: its format is not known yet). A KBART row's source id is its title's (as for rows
    rejected on reading), so a full-replacement sweep keeps its portfolios."""
    if isinstance(batch, PortfolioBatch):
        return [
            Reject(
                position=row.position, source_id=_title_of(row.portfolio_id), reason=reason, outcome="failed"
            )
            for row in batch.rows
        ]
    return [
        Reject(
            position=item.position,
            source_id=item.source_id,
            reason=reason,
            raw=_raw(item.marc, fmt),
            outcome="failed",
        )
        for item in batch.records
    ]


def _title_of(portfolio_id: str) -> str:
    """`<package>|<title source id>|<coverage start>` -> the title source id."""
    parts = portfolio_id.split("|")
    return parts[1] if len(parts) == 3 else portfolio_id


def _raw(data: dict, fmt: str | None) -> bytes | None:
    if fmt is None:
        return None
    try:
        return marc.serialize(marc.marc_json_to_record(data), fmt)
    except Exception:  # a record that cannot be written back is listed without its bytes
        return None
