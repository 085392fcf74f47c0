"""feed_ingest: S3 "object created" under feeds/<provider>/ -> record batches on MatchQueue.

Thin: parse the S3 event with Powertools' model, hand each object to `netzone.feeds.ingest`,
log and count the result. A redelivered event for the same object version does no work twice
(Powertools idempotency on bucket, key and ETag).
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
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import S3Model
from aws_lambda_powertools.utilities.typing import LambdaContext

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
# A short cache: a provider the central office has just registered can feed within a minute.
providers = ProviderRegistry(DynamoNetworkStore(settings.network_table), ttl=60)
idempotency = IdempotencyConfig(event_key_jmespath="[bucket, key, etag]", expires_after_seconds=7 * 24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table)


@idempotent_function(data_keyword_argument="feed", persistence_store=persistence, config=idempotency)
def ingest_feed(feed: dict) -> dict:
    ref = feeds.FeedRef(**feed)
    job_id = feeds.job_id_for(ref.bucket, ref.key, ref.etag)
    logger.append_keys(job_id=job_id, feed_key=ref.key)
    try:
        stream = objects.open(ref)
        summary = feeds.ingest(
            stream,
            ref,
            sink=sink,
            ledger=jobs,
            providers=providers,
            max_records=settings.batch_max_records,
            max_bytes=settings.batch_max_bytes,
        )
    except feeds.FeedError as error:
        # The file as a whole is unusable (wrong place, unknown provider or format, gone): the
        # job says why, and its report is written like any other's.
        logger.warning("feed rejected", extra={"reason": str(error)})
        metrics.add_metric(name="FeedsRejected", unit=MetricUnit.Count, value=1)
        sink.send(JobStep(kind="finish", job_id=job_id))
        return {"job_id": job_id, "status": "failed", "error": str(error)}
    # Finishing is record_match's: this step finishes the job if every batch was matched already.
    sink.send(JobStep(kind="finish", job_id=job_id))
    metrics.add_metric(name="RecordsRead", unit=MetricUnit.Count, value=summary.records_read)
    metrics.add_metric(name="RecordsRejectedOnRead", unit=MetricUnit.Count, value=summary.rejected)
    logger.info(
        "feed read",
        extra={
            "format": summary.format,
            "records_read": summary.records_read,
            "sent": summary.sent,
            "rejected": summary.rejected,
            "batches": summary.batches,
        },
    )
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
    idempotency.register_lambda_context(context)
    results = []
    for record in event.Records:
        obj = record.s3.object
        feed = feeds.FeedRef(
            bucket=record.s3.bucket.name,
            key=unquote_plus(obj.key),
            etag=obj.eTag or "",
            size=obj.size,
            version_id=obj.versionId,
        )
        results.append(ingest_feed(feed=feed.model_dump()))
    return {"jobs": results}
