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

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from wiring import Wiring

from netzone.dead_letters import DeadLetterAccountant, NoWithdrawals
from netzone.settings import MatchDeadLetterSettings

wiring = Wiring(MatchDeadLetterSettings())
logger, metrics = wiring.logger, wiring.metrics
accountant = DeadLetterAccountant(
    ledger=wiring.jobs, finisher=wiring.feed_finisher(holdings=NoWithdrawals(), withdrawer=NoWithdrawals())
)


class DeadLetter(SqsRecordModel):
    body: str  # as record_match received it: accounted whatever it holds, even when unreadable


processor = BatchProcessor(event_type=EventType.SQS, model=DeadLetter)


def handle(record: DeadLetter) -> dict:
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
def handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
