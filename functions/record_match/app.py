"""record_match: MatchQueue batches -> source records and clusters, outcomes counted on the job.

Each SQS message is one batch from one feed: MARC records (`RecordBatch`), or KBART rows
(`PortfolioBatch`, kind "portfolios") that become electronic portfolios. Failures are reported per message
(ReportBatchItemFailures): a failed batch is retried, then parked in the dead-letter queue;
the other batches of the invocation succeed. Filing and counting are idempotent, so a
redelivered batch changes nothing twice.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Discriminator, Json, Tag

from netzone import catalog, portfolios
from netzone.adapters.dynamodb import DynamoCatalogStore, DynamoJobStore
from netzone.adapters.network_store import DynamoNetworkStore, ProviderRegistry
from netzone.adapters.portfolio_store import DynamoPortfolioStore
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


def _kind(body: Any) -> str:
    kind = body.get("kind") if isinstance(body, dict) else getattr(body, "kind", None)
    return "portfolios" if kind == "portfolios" else "records"


Batch = Annotated[
    Annotated[RecordBatch, Tag("records")] | Annotated[PortfolioBatch, Tag("portfolios")],
    Discriminator(_kind),
]


class RecordBatchMessage(SqsRecordModel):
    body: Json[Batch]  # type: ignore[assignment]


processor = BatchProcessor(event_type=EventType.SQS, model=RecordBatchMessage)


def file_batch(record: RecordBatchMessage) -> dict:
    batch = record.body
    if isinstance(batch, PortfolioBatch):
        result = portfolio_filer.file_batch(batch)
    else:
        result = filer.file_batch(batch)
    counted = jobs.record_outcomes(batch.job_id, batch.seq, dict(result.counts), result.rejects)
    noun = "Portfolios" if isinstance(batch, PortfolioBatch) else "Records"
    for outcome, count in result.counts.items():
        metrics.add_metric(name=f"{noun}{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    logger.info(
        "batch filed",
        extra={
            "job_id": batch.job_id,
            "seq": batch.seq,
            "kind": "portfolios" if isinstance(batch, PortfolioBatch) else "records",
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
