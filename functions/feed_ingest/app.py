"""feed_ingest: S3 "object created" under feeds/<provider>/ -> record batches on MatchQueue.

Thin: parse the event with Powertools' models, hand the object to `netzone.feeds.ingest`, log
and count the result. A redelivered event for an object version that was read does no work
twice (the job, keyed by bucket, key and ETag, says it was read). A run that died mid-read is
simply read again by Lambda's retry: batches are numbered and counted once, records filed
once, rejects kept by position. (Powertools idempotency would hold such a retry off until the
dead run's deadline, and the feed would end in the dead-letter queue.)

Any size: a run that nears the Lambda time limit stops between records and puts its checkpoint
(next record's position and byte offset, counters so far) on FeedContinueQueue; this function
consumes that queue too and goes on from there, in as many invocations as the file needs.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3Model, SqsModel, SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from netzone import feeds
from netzone.adapters.dynamodb import DynamoJobStore
from netzone.adapters.network_store import DynamoNetworkStore, ProviderRegistry
from netzone.adapters.s3 import FeedObjects
from netzone.adapters.sqs import SqsBatchSink
from netzone.completion import JobStep
from netzone.settings import FeedIngestSettings

settings = FeedIngestSettings()
logger = Logger()
metrics = Metrics()
jobs = DynamoJobStore(settings.jobs_table)
objects = FeedObjects()
sink = SqsBatchSink(settings.match_queue_url)
continuations = SqsBatchSink(settings.feed_continue_queue_url)
# A short cache: a provider the central office has just registered can feed within a minute.
providers = ProviderRegistry(DynamoNetworkStore(settings.network_table), ttl=60)
# A continuation is consumed once (SQS redelivers it only after the run's whole time limit).
continue_idempotency = IdempotencyConfig(
    event_key_jmespath="[job_id, to_string(position)]", expires_after_seconds=7 * 24 * 3600
)


class ContinueRecord(SqsRecordModel):
    body: Json[feeds.Checkpoint]  # type: ignore[assignment]


class ContinueEvent(SqsModel):
    Records: list[ContinueRecord]  # type: ignore[assignment]


class Invocation:
    """The running invocation's clock: ingest pauses when less than the margin is left."""

    context: LambdaContext | None = None

    @classmethod
    def nearly_out_of_time(cls) -> bool:
        remaining = cls.context.get_remaining_time_in_millis() if cls.context else 900_000
        return remaining < settings.pause_margin_seconds * 1000


@idempotent_function(
    data_keyword_argument="checkpoint",
    persistence_store=DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
    config=continue_idempotency,
)
def continue_feed(checkpoint: dict) -> dict:
    resume = feeds.Checkpoint(**checkpoint)
    return _read(resume.feed, resume)


def _read(ref: feeds.FeedRef, resume: feeds.Checkpoint | None) -> dict:
    job_id = feeds.job_id_for(ref.bucket, ref.key, ref.etag)
    logger.append_keys(job_id=job_id, feed_key=ref.key)
    try:
        stream = objects.open(ref, start=resume.offset if resume and resume.offset else 0)
        summary = feeds.ingest(
            stream,
            ref,
            sink=sink,
            ledger=jobs,
            providers=providers,
            max_records=settings.batch_max_records,
            max_bytes=settings.batch_max_bytes,
            resume=resume,
            should_pause=Invocation.nearly_out_of_time,
        )
    except feeds.FeedError as error:
        # The file as a whole is unusable (wrong place, unknown provider or format, gone): the
        # job says why, and its report is written like any other's. A continuation whose object
        # changed under it (a new version of the same key) fails its job here: ingest never ran.
        if resume is not None:
            jobs.fail(job_id, str(error))
        logger.warning("feed rejected", extra={"reason": str(error)})
        metrics.add_metric(name="FeedsRejected", unit=MetricUnit.Count, value=1)
        sink.send(JobStep(kind="finish", job_id=job_id))
        return {"job_id": job_id, "status": "failed", "error": str(error)}
    if summary.already_read:
        logger.info("feed was read before: nothing to do")
        return {"job_id": job_id, "status": "already read"}
    metrics.add_metric(name="RecordsRead", unit=MetricUnit.Count, value=summary.records_read)
    report = {
        "format": summary.format,
        "records_read": summary.records_read,
        "sent": summary.sent,
        "rejected": summary.rejected,
        "batches": summary.batches,
    }
    if summary.checkpoint is not None:
        continuations.send(summary.checkpoint)
        logger.info(
            "feed paused near the time limit",
            extra=report | {"next_position": summary.checkpoint.position + 1},
        )
        return {"job_id": job_id, "status": "reading", "continues_at": summary.checkpoint.position + 1}
    # Finishing is record_match's: this step finishes the job if every batch was matched already.
    sink.send(JobStep(kind="finish", job_id=job_id))
    metrics.add_metric(name="RecordsRejectedOnRead", unit=MetricUnit.Count, value=summary.rejected)
    logger.info("feed read", extra=report)
    return {
        "job_id": job_id,
        "status": "matching",
        "records_read": summary.records_read,
        "rejected": summary.rejected,
    }


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    continue_idempotency.register_lambda_context(context)
    Invocation.context = context
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:sqs":
        continued = parse(event=event, model=ContinueEvent)
        return {"jobs": [continue_feed(checkpoint=r.body.model_dump()) for r in continued.Records]}
    dropped = parse(event=event, model=S3Model)
    results = []
    for record in dropped.Records:
        obj = record.s3.object
        feed = feeds.FeedRef(
            bucket=record.s3.bucket.name,
            key=unquote_plus(obj.key),
            etag=obj.eTag or "",
            size=obj.size,
            version_id=obj.versionId,
            dropped_at=record.eventTime.isoformat(timespec="microseconds"),  # fixed width: sorts as text
        )
        results.append(_read(feed, None))
    return {"jobs": results}
