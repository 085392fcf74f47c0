"""match_dead_letter: MatchDeadLetterQueue -> each dead-lettered message accounted on its feed job.

A message lands here once record_match has failed on it five times (MatchDeadLetterAlarm goes
off). A record or portfolio batch has its records counted `failed` on the job, with the reason
record_match kept, and the job's finish step runs (`completed_with_failures`, its report, rejects
file and FeedCompleted); a step finishing a job that kept failing fails the job
(`netzone.dead_letters`). A message that cannot be accounted now (its report cannot be written,
say) is reported failed and stays in the queue to be tried again.
"""

from __future__ import annotations

from dataclasses import asdict

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from netzone.adapters.dynamodb import DynamoJobStore
from netzone.adapters.events import EventBridgeBus
from netzone.adapters.s3 import ReportObjects
from netzone.adapters.sqs import SqsBatchSink
from netzone.completion import FeedFinisher
from netzone.dead_letters import DeadLetterAccountant, NoWithdrawals
from netzone.settings import MatchDeadLetterSettings

settings = MatchDeadLetterSettings()
logger = Logger()
metrics = Metrics()
jobs = DynamoJobStore(settings.jobs_table)
accountant = DeadLetterAccountant(
    ledger=jobs,
    finisher=FeedFinisher(
        ledger=jobs,
        holdings=NoWithdrawals(),
        withdrawer=NoWithdrawals(),
        reports=ReportObjects(settings.feed_bucket),
        events=EventBridgeBus(settings.event_bus_name),
        steps=SqsBatchSink(settings.match_queue_url),
    ),
)
processor = BatchProcessor(event_type=EventType.SQS, model=SqsRecordModel)


def handle(record: SqsRecordModel) -> dict:
    named = record.messageAttributes.get("job_id")
    accounted = accountant.account(record.body, named.stringValue if named else None)
    metrics.add_metric(name="MatchDeadLetters", unit=MetricUnit.Count, value=1)
    if accounted.failed:
        noun = "PortfoliosFailed" if accounted.kind == "portfolios" else "RecordsFailed"
        metrics.add_metric(name=noun, unit=MetricUnit.Count, value=accounted.failed)
    logger.warning("dead letter accounted", extra={"message_id": record.messageId, **asdict(accounted)})
    return asdict(accounted)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
