"""MatchQueue: record batches on their way from feed_ingest to record_match, and the steps that
finish a feed job (see `netzone.completion`)."""

from __future__ import annotations

from typing import Protocol

from netzone.adapters import AwsAdapter


class QueueMessage(Protocol):
    job_id: str

    @property
    def seq(self) -> int | str: ...

    def to_message(self) -> str: ...


class SqsBatchSink(AwsAdapter):
    service = "sqs"

    def __init__(self, queue_url: str, client=None):
        super().__init__(client)
        self.queue_url = queue_url
        self.sent = 0

    def send(self, batch: QueueMessage) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=batch.to_message(),
            MessageAttributes={
                "job_id": {"DataType": "String", "StringValue": batch.job_id},
                "seq": {"DataType": "String", "StringValue": str(batch.seq)},
            },
        )
        self.sent += 1
