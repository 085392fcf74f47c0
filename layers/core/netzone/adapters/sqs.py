"""MatchQueue: record batches on their way from feed_ingest to record_match."""

from __future__ import annotations

import boto3

from netzone.feeds import RecordBatch


class SqsBatchSink:
    def __init__(self, queue_url: str, client=None):
        self.queue_url = queue_url
        self._client = client
        self.sent = 0

    @property
    def client(self):
        if self._client is None:
            self._client = boto3.client("sqs")
        return self._client

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
