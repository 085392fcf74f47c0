"""Dead-lettered MatchQueue messages are accounted on their jobs: a batch's records `failed` with
the reason record_match kept, once; the job then finishes (`completed_with_failures`, report,
rejects file, FeedCompleted); a step that kept failing fails its job. Pure: in-memory ports."""

from __future__ import annotations

import io
import json

from demo.feeds import synthetic_records
from netzone import marc
from netzone.batches import BatchRecord, PortfolioBatch, PortfolioRow, RecordBatch
from netzone.clock import now
from netzone.completion import FeedFinisher, JobStep, _held_by_reject
from netzone.dead_letters import (
    REASON_LIMIT,
    DeadLetterAccountant,
    NoWithdrawals,
    failed_records,
    failure_reason,
    note_failure,
    subject,
)
from netzone.jobs import FeedJob, FeedRef, Reject


class MemoryJobs:
    """The jobs ledger with DynamoJobStore's semantics: batches counted once, conditional advances."""

    def __init__(self):
        self.jobs: dict[str, FeedJob] = {}
        self.rejects: dict[str, dict[int, Reject]] = {}
        self.batches: set[tuple[str, int]] = set()
        self.filed: dict[str, list] = {}
        self.failures: dict[tuple[str, str], tuple[int, str]] = {}

    def get(self, job_id, max_rejects=100):
        job = self.jobs.get(job_id)
        if job is None:
            return None
        rejects = sorted(self.rejects.get(job_id, {}).values(), key=lambda r: r.position)
        return job.model_copy(deep=True, update={"rejects": rejects[:max_rejects]})

    def advance(self, job_id, from_status, to_status, **fields):
        job = self.jobs[job_id]
        if job.status != from_status:
            return False
        self.jobs[job_id] = job.model_copy(
            update={"status": to_status, **{k: v for k, v in fields.items() if v is not None}}
        )
        return True

    def record_outcomes(self, job_id, seq, counts, rejects, filed=()):
        self.rejects.setdefault(job_id, {}).update({r.position: r for r in rejects})
        if (job_id, seq) in self.batches:
            return False
        self.batches.add((job_id, seq))
        self.filed.setdefault(job_id, []).extend(filed)
        job = self.jobs[job_id]
        for name, n in counts.items():
            job.counts[name] = job.counts.get(name, 0) + n
        job.matched += sum(counts.values())
        return True

    def batch_counted(self, job_id, seq):
        return (job_id, seq) in self.batches

    def note_failure(self, job_id, subject, reason):
        attempts = self.failures.get((job_id, subject), (0, ""))[0] + 1
        self.failures[(job_id, subject)] = (attempts, reason)
        return attempts

    def failure(self, job_id, subject):
        return self.failures.get((job_id, subject))

    def all_rejects(self, job_id):
        return iter(sorted(self.rejects.get(job_id, {}).values(), key=lambda r: r.position))

    def all_filed(self, job_id):
        return iter(self.filed.get(job_id, []))

    def rejected_source_ids(self, job_id):
        return {r.source_id for r in self.rejects.get(job_id, {}).values() if r.source_id}

    def all_warnings(self, job_id):
        return iter(())

    def count_withdrawn_absent(self, job_id, page, withdrawn):
        return True

    def mark_reported(self, job_id, report_key, rejects_key):
        job = self.jobs[job_id]
        if job.report_key:
            return False
        self.jobs[job_id] = job.model_copy(update={"report_key": report_key, "rejects_key": rejects_key})
        return True


class Objects:
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def put(self, key, body, content_type):
        self.objects[key] = body.read()
        return f"s3://feeds/{key}"


class Bus:
    def __init__(self):
        self.events: list[dict] = []

    def publish(self, source, detail_type, detail):
        self.events.append({"source": source, "detail-type": detail_type, "detail": detail})


class Steps:
    def __init__(self):
        self.sent: list[JobStep] = []

    def send(self, message):
        self.sent.append(message)


class Poison(RuntimeError):
    pass


def _setup(records=5, feed_mode="incremental"):
    jobs, objects, bus, steps = MemoryJobs(), Objects(), Bus(), Steps()
    finisher = FeedFinisher(
        ledger=jobs,
        holdings=NoWithdrawals(),
        withdrawer=NoWithdrawals(),
        reports=objects,
        events=bus,
        steps=steps,
    )
    job = FeedJob(
        job_id="j1",
        provider="harbor",
        feed=FeedRef(bucket="feeds", key="feeds/harbor/weekly.mrc", etag="e1"),
        format="iso2709",
        status="matching",
        records_read=records + 1,
        accepted=records,
        feed_mode=feed_mode,
        started_at=now(),
    )
    job.counts["rejected"] = 1  # one record rejected on reading, with its reason
    jobs.jobs["j1"] = job
    jobs.rejects["j1"] = {records + 1: Reject(position=records + 1, source_id="bad", reason="no 245")}
    return jobs, objects, bus, steps, DeadLetterAccountant(jobs, finisher)


def _batch(seq, first, count, feed_mode="incremental"):
    items = [
        BatchRecord(position=first + n, source_id=r["001"].data, marc=marc.record_to_marc_json(r))
        for n, r in enumerate(synthetic_records(count, "harbor", seed=first))
    ]
    return RecordBatch(job_id="j1", provider="harbor", seq=seq, records=items, feed_mode=feed_mode)


def test_a_dead_lettered_batch_is_counted_failed_once_with_its_reason_and_the_job_completes():
    jobs, objects, bus, _, accountant = _setup(records=5)
    jobs.record_outcomes("j1", 0, {"created": 3}, [])  # the first batch was filed
    poison = _batch(1, 4, 2)
    for _ in range(5):  # record_match failed on the second one five times, then SQS gave up
        note_failure(jobs, poison, Poison("Item size has exceeded the maximum allowed size"))

    accounted = accountant.account(poison.to_message())

    assert (accounted.job_id, accounted.kind, accounted.failed) == ("j1", "records", 2)
    job = jobs.get("j1")
    assert job.status == "completed_with_failures" and job.matched == job.accepted == 5
    assert job.counts["failed"] == 2 and sum(job.counts.values()) == job.records_read
    reason = "record_match failed 5 times on this record's batch: Poison: Item size has exceeded the maximum allowed size"
    failed = [r for r in job.rejects if r.outcome == "failed"]
    assert [(r.position, r.source_id, r.reason) for r in failed] == [
        (item.position, item.source_id, reason) for item in poison.records
    ]

    report = json.loads(objects.objects["reports/harbor/weekly.mrc.json"])
    assert report["status"] == "completed_with_failures" and report["accounted"] is True
    assert report["counts"]["failed"] == 2
    listed = [(r["position"], r["outcome"], r["reason"]) for r in report["rejects"]]
    assert listed == [(4, "failed", reason), (5, "failed", reason), (6, "rejected", "no 245")]
    # The failed records are in the rejects file as the feed's format, ready to resend.
    _, results = marc.read_records(io.BytesIO(objects.objects["rejects/harbor/weekly.mrc"]))
    assert [r.record["001"].data for r in results] == [item.source_id for item in poison.records]
    # The records file says what became of them too: failed, in no network record.
    lines = objects.objects["reports/harbor/weekly.mrc.records.jsonl"].splitlines()
    assert [json.loads(line) for line in lines] == [
        {"position": item.position, "source_id": item.source_id, "outcome": "failed"}
        for item in poison.records
    ]
    (event,) = bus.events
    assert event["detail"]["status"] == "completed_with_failures" and event["detail"]["counts"]["failed"] == 2

    # Delivered again (SQS is at least once): nothing counts twice, the job stays as it is.
    again = accountant.account(poison.to_message())
    assert again.failed == 0 and jobs.get("j1").counts == job.counts and len(bus.events) == 1


def test_a_batch_that_timed_out_or_crashed_every_time_is_failed_for_a_reason_unknown():
    jobs, _, _, _, accountant = _setup(records=2)

    accountant.account(_batch(0, 1, 2).to_message())

    job = jobs.get("j1")
    assert job.status == "completed_with_failures" and job.counts["failed"] == 2
    assert {r.reason for r in job.rejects if r.outcome == "failed"} == {
        "record_match gave up on this record's batch (reason unknown: every try timed out or its worker crashed)"
    }


def test_a_batch_counted_before_its_finish_step_kept_failing_counts_nothing_and_finishes_the_job():
    jobs, _, bus, _, accountant = _setup(records=2)
    batch = _batch(0, 1, 2)
    jobs.record_outcomes("j1", 0, {"created": 2}, [])  # filed and counted; then finishing failed
    note_failure(jobs, batch, Poison("the report could not be written"))

    accounted = accountant.account(batch.to_message())

    job = jobs.get("j1")
    assert accounted.failed == 0 and job.counts["failed"] == 0 and job.counts["created"] == 2
    assert job.status == "completed" and [e["detail"]["status"] for e in bus.events] == ["completed"]


def test_a_full_replacement_job_with_failures_leaves_its_sweep_to_record_match_and_keeps_what_failed():
    jobs, _, bus, steps, accountant = _setup(records=2, feed_mode="full")
    batch = _batch(0, 1, 2, feed_mode="full")

    accountant.account(batch.to_message())

    assert jobs.get("j1").status == "withdrawing" and not bus.events
    assert steps.sent == [JobStep(kind="withdraw_absent", job_id="j1")]
    # The sweep keeps what the file held but failed, as it keeps what it held but was rejected.
    kept = jobs.rejected_source_ids("j1")
    assert all(_held_by_reject("source", item.source_id, kept) for item in batch.records)


def test_failed_kbart_rows_are_listed_by_title_so_a_full_sweep_keeps_their_portfolios():
    rows = [PortfolioRow(position=3, portfolio_id="AllJournals|jt-42|2001-01-01", portfolio={})]
    batch = PortfolioBatch(job_id="j1", provider="openlink", seq=0, rows=rows)

    (failed,) = failed_records(batch, "why", "kbart")

    assert (failed.position, failed.source_id, failed.outcome, failed.raw) == (3, "jt-42", "failed", None)
    assert _held_by_reject("portfolio", "AllJournals|jt-42|2001-01-01", {failed.source_id})


def test_a_dead_lettered_job_step_fails_the_job_with_the_reason_and_reports_it():
    jobs, objects, bus, _, accountant = _setup(records=2)
    jobs.advance("j1", "matching", "withdrawing")
    step = JobStep(kind="withdraw_absent", job_id="j1", page=3)
    for _ in range(5):
        note_failure(jobs, step, Poison("throttled"))

    accounted = accountant.account(step.to_message())

    job = jobs.get("j1")
    assert (accounted.kind, job.status) == ("withdraw_absent", "failed")
    assert job.error == (
        "withdrawing what the file no longer holds: record_match failed 5 times on step "
        "withdraw_absent:3: Poison: throttled"
    )
    assert json.loads(objects.objects["reports/harbor/weekly.mrc.json"])["status"] == "failed"
    assert [e["detail"]["status"] for e in bus.events] == ["failed"] and job.report_key
    # A job that finished already is left alone.
    accountant.account(JobStep(kind="finish", job_id="j1").to_message())
    assert jobs.get("j1").error == job.error and len(bus.events) == 1


def test_a_message_that_cannot_be_read_fails_the_job_its_attributes_name():
    jobs, _, bus, _, accountant = _setup(records=2)

    accounted = accountant.account('{"kind": "records", "job_id": "j1"}', job_id="j1")

    job = jobs.get("j1")
    assert accounted.kind == "unreadable" and job.status == "failed"
    assert job.error.startswith("a message of this job on MatchQueue could not be read (ValidationError: ")
    assert [e["detail"]["status"] for e in bus.events] == ["failed"]
    assert accountant.account("not json").result == "no job named: nothing to account"


def test_failure_reasons_are_one_short_line_and_noting_one_never_hides_the_error():
    reason = failure_reason(ValueError("line one\n  line two " + "x" * 1000))
    assert reason.startswith("ValueError: line one line two x") and len(reason) == REASON_LIMIT
    assert failure_reason(KeyError()) == "KeyError"
    assert subject(_batch(7, 1, 1)) == "batch 00000007"
    assert subject(JobStep(kind="withdraw_absent", job_id="j", page=2)) == "step withdraw_absent 2"

    class Broken(MemoryJobs):
        def note_failure(self, job_id, subject, reason):
            raise ConnectionError("the jobs table is out of reach")

    assert note_failure(Broken(), _batch(0, 1, 1), Poison("x")) is None
