"""feed_ingest: a provider's feed file under feeds/<provider>/ -> record batches on MatchQueue.

One entry point per event source, both reading the file the same way (`_read`):

- `handler` (FeedIngestFunction): S3 "object created": the file is read from its start;
- `continue_handler` (FeedContinueFunction): a checkpoint on FeedContinueQueue: the file is
  read on from where a run near its time limit paused.

Thin: parse the event with Powertools' models, hand the object to `netzone.ingest.ingest`, log
and count the result. A redelivered event for an object version that was read does no work
twice (the job, keyed by bucket, key and ETag, says it was read). A run that died mid-read is
simply read again by Lambda's retry: batches are numbered and counted once, records filed
once, rejects kept by position. (Powertools idempotency would hold such a retry off until the
dead run's deadline, and the feed would end in the dead-letter queue.)

Any size: a run that nears the Lambda time limit stops between records and puts its checkpoint
(next record's position and byte offset, counters so far) on FeedContinueQueue;
`continue_handler` goes on from there, in as many invocations as the file needs.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import S3Model, S3RecordModel, SqsModel, SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json
from wiring import Wiring

from netzone.completion import JobStep
from netzone.ingest import Checkpoint, ingest
from netzone.jobs import FeedError, FeedRef, job_id_for
from netzone.settings import FeedIngestSettings

# A short cache: a provider the central office has just registered can feed within a minute.
wiring = Wiring(FeedIngestSettings(), provider_ttl=60)
settings, logger, metrics = wiring.settings, wiring.logger, wiring.metrics
jobs, objects, providers = wiring.jobs, wiring.feed_objects, wiring.providers
sink, continuations = wiring.match_queue, wiring.continue_queue
# A continuation is consumed once (SQS redelivers it only after the run's whole time limit).
continue_idempotency = IdempotencyConfig(
    event_key_jmespath="[job_id, to_string(position)]", expires_after_seconds=7 * 24 * 3600
)


class ContinueRecord(SqsRecordModel):
    body: Json[Checkpoint]


class ContinueEvent(SqsModel):
    Records: list[ContinueRecord]


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
    resume = Checkpoint(**checkpoint)
    return _read(resume.feed, resume)


def _read(ref: FeedRef, resume: Checkpoint | None) -> dict:
    job_id = job_id_for(ref.bucket, ref.key, ref.etag)
    logger.append_keys(job_id=job_id, feed_key=ref.key)
    try:
        stream = objects.open(ref, start=resume.offset if resume and resume.offset else 0)
        summary = ingest(
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
    except FeedError as error:
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
@event_parser(model=S3Model)
def handler(event: S3Model, context: LambdaContext) -> dict:
    """FeedIngestFunction: each dropped file read from its start."""
    Invocation.context = context
    return {"jobs": [_read(_dropped(record), None) for record in event.Records]}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=ContinueEvent)
def continue_handler(event: ContinueEvent, context: LambdaContext) -> dict:
    """FeedContinueFunction: each paused file read on from its checkpoint (once per checkpoint)."""
    continue_idempotency.register_lambda_context(context)
    Invocation.context = context
    return {"jobs": [continue_feed(checkpoint=r.body.model_dump()) for r in event.Records]}


def _dropped(record: S3RecordModel) -> FeedRef:
    obj = record.s3.object
    if obj is None:  # Powertools' model allows it; an "object created" notification always has one
        raise ValueError(f"an S3 {record.eventName} notification without its object")
    return FeedRef(
        bucket=record.s3.bucket.name,
        key=unquote_plus(obj.key),
        etag=obj.eTag or "",
        size=obj.size,
        version_id=obj.versionId,
        dropped_at=record.eventTime.isoformat(timespec="microseconds"),  # fixed width: sorts as text
    )
