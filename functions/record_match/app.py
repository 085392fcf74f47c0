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

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json
from wiring import Wiring

from netzone import dead_letters, portfolio_filing, record_filing
from netzone.batches import PortfolioBatch, RecordBatch
from netzone.completion import CatalogWithdrawer, JobStep
from netzone.dead_letters import MatchMessage
from netzone.settings import RecordMatchSettings

wiring = Wiring(RecordMatchSettings())
logger, metrics = wiring.logger, wiring.metrics
catalog_store, priorities, jobs = wiring.catalog, wiring.providers, wiring.jobs
filer = record_filing.Filer(catalog_store, priorities)
portfolio_filer = portfolio_filing.PortfolioFiler(catalog_store, wiring.portfolios, priorities)
finisher = wiring.feed_finisher(
    holdings=catalog_store, withdrawer=CatalogWithdrawer(sources=filer, portfolios=portfolio_filer)
)


class MatchQueueMessage(SqsRecordModel):
    body: Json[MatchMessage]


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
    result = (
        portfolio_filer.file_batch(batch) if isinstance(batch, PortfolioBatch) else filer.file_batch(batch)
    )
    counted = jobs.record_outcomes(batch.job_id, batch.seq, dict(result.counts), result.rejects, result.filed)
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
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
