"""MatchQueue: record batches on their way from feed_ingest to record_match."""

from __future__ import annotations

from netzone.adapters import AwsAdapter
from netzone.feeds import RecordBatch


class SqsBatchSink(AwsAdapter):
    service = "sqs"

    def __init__(self, queue_url: str, client=None):
        super().__init__(client)
        self.queue_url = queue_url
        self.sent = 0

    def send(self, batch: RecordBatch) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=batch.to_message(),
            MessageAttributes={
                "job_id": {"DataType": "String", "StringValue": batch.job_id},
                "seq": {"DataType": "Number", "StringValue": str(batch.seq)},
            },
        )
        self.sent += 1
