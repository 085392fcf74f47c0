"""record_match: MatchQueue batches -> source records and clusters, outcomes counted on the job.

Each SQS message is one batch from one feed: MARC records (`RecordBatch`), or KBART rows
(`PortfolioBatch`, kind "portfolios") that become electronic portfolios; or a step that
finishes a feed job (full-replacement withdrawals, report, rejects file, FeedCompleted:
`netzone.completion`). Failures are reported per message (ReportBatchItemFailures): a failed
message is retried (its job keeps why it failed), then parked in the dead-letter queue, where
match_dead_letter accounts it on its job (`netzone.dead_letters`); the other batches of the
invocation succeed. Filing and counting are idempotent, so a redelivered batch changes nothing
twice.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from netzone import catalog, dead_letters, portfolios
from netzone.adapters.dynamodb import DynamoCatalogStore, DynamoJobStore
from netzone.adapters.events import EventBridgeBus
from netzone.adapters.network_store import DynamoNetworkStore, ProviderRegistry
from netzone.adapters.portfolio_store import DynamoPortfolioStore
from netzone.adapters.s3 import ReportObjects
from netzone.adapters.sqs import SqsBatchSink
from netzone.completion import CatalogWithdrawer, FeedFinisher, JobStep
from netzone.dead_letters import MatchMessage
from netzone.feeds import RecordBatch
from netzone.portfolio_feed import PortfolioBatch
from netzone.settings import RecordMatchSettings

settings = RecordMatchSettings()
logger = Logger()
metrics = Metrics()
catalog_store = DynamoCatalogStore(settings.catalog_table)
priorities = ProviderRegistry(DynamoNetworkStore(settings.network_table))
filer = catalog.Filer(catalog_store, priorities)
portfolio_filer = portfolios.PortfolioFiler(
    catalog_store, DynamoPortfolioStore(settings.catalog_table), priorities
)
jobs = DynamoJobStore(settings.jobs_table)
finisher = FeedFinisher(
    ledger=jobs,
    holdings=catalog_store,
    withdrawer=CatalogWithdrawer(sources=filer, portfolios=portfolio_filer),
    reports=ReportObjects(settings.feed_bucket),
    events=EventBridgeBus(settings.event_bus_name),
    steps=SqsBatchSink(settings.match_queue_url),
)


class MatchQueueMessage(SqsRecordModel):
    body: Json[MatchMessage]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=MatchQueueMessage)


def handle(record: MatchQueueMessage) -> dict:
    message = record.body
    try:
        return handle_message(message)
    except Exception as error:
        # SQS delivers the message again; once it has failed too often it is dead-lettered and
        # accounted on its job with the reason kept here.
        failures = dead_letters.note_failure(jobs, message, error)
        logger.exception(
            "message failed",
            extra={"job_id": message.job_id, "subject": dead_letters.subject(message), "failures": failures},
        )
        raise


def handle_message(message: RecordBatch | PortfolioBatch | JobStep) -> dict:
    if isinstance(message, JobStep):
        done = finisher.step(message)
        logger.info("job step", extra={"job_id": message.job_id, "step": message.seq, "result": done})
        return {"step": done}
    return file_batch(message)


def file_batch(batch: RecordBatch | PortfolioBatch) -> dict:
    is_portfolios = isinstance(batch, PortfolioBatch)
    result = portfolio_filer.file_batch(batch) if is_portfolios else filer.file_batch(batch)
    counted = jobs.record_outcomes(batch.job_id, batch.seq, dict(result.counts), result.rejects)
    # The batch that gives the last accepted record its outcome finishes the job (a cheap read
    # for the others; a redelivered last batch finishes it if a crash came in between).
    finisher.step(JobStep(kind="finish", job_id=batch.job_id))
    noun = "Portfolios" if is_portfolios else "Records"
    for outcome, count in result.counts.items():
        metrics.add_metric(name=f"{noun}{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    logger.info(
        "batch filed",
        extra={
            "job_id": batch.job_id,
            "seq": batch.seq,
            "kind": batch.kind,
            "counts": dict(result.counts),
            "counted_now": counted,
        },
    )
    return dict(result.counts)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
