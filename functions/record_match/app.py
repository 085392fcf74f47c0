"""record_match: MatchQueue batches -> source records and clusters, outcomes counted on the job.

Each SQS message is one batch of records from one feed. Failures are reported per message
(ReportBatchItemFailures): a failed batch is retried, then parked in the dead-letter queue;
the other batches of the invocation succeed. Filing and counting are idempotent, so a
redelivered batch changes nothing twice.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from netzone import catalog
from netzone.adapters.dynamodb import DynamoCatalogStore, DynamoJobStore
from netzone.adapters.network_store import DynamoNetworkStore, ProviderRegistry
from netzone.feeds import RecordBatch
from netzone.settings import RecordMatchSettings

settings = RecordMatchSettings()
logger = Logger()
metrics = Metrics()
filer = catalog.Filer(
    DynamoCatalogStore(settings.catalog_table), ProviderRegistry(DynamoNetworkStore(settings.network_table))
)
jobs = DynamoJobStore(settings.jobs_table)


class RecordBatchMessage(SqsRecordModel):
    body: Json[RecordBatch]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=RecordBatchMessage)


def file_batch(record: RecordBatchMessage) -> dict:
    batch = record.body
    result = filer.file_batch(batch)
    counted = jobs.record_outcomes(batch.job_id, batch.seq, dict(result.counts), result.rejects)
    for outcome, count in result.counts.items():
        metrics.add_metric(name=f"Records{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    logger.info(
        "batch filed",
        extra={
            "job_id": batch.job_id,
            "seq": batch.seq,
            "counts": dict(result.counts),
            "counted_now": counted,
        },
    )
    return dict(result.counts)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(
        event=event, record_handler=file_batch, processor=processor, context=context
    )
