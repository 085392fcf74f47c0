"""Event-source pollers: what Lambda's event source mappings and S3's async invocations do, locally.

One thread per function event. Each builds the event Lambda would send and calls the function's
worker (one invocation at a time per function):

- `SqsPoller` (SQS events): batches of up to BatchSize within MaximumBatchingWindowInSeconds,
  Lambda's SQS record shape. Success deletes the batch; with ReportBatchItemFailures only the
  messages not listed in batchItemFailures are deleted; a handler error deletes nothing. Messages
  that stay come back after a short local visibility (LOCAL_RETRY_SECONDS instead of the queue's
  timeout), and the queue's redrive policy moves poison messages to its dead-letter queue.
- `S3NotificationPoller` (S3 events): reads the internal queue the bucket notifies, drops
  s3:TestEvent, completes the record the way S3 sends it to Lambda, and invokes asynchronously:
  on error up to MaximumRetryAttempts (default 2) retries, then the function's DeadLetterQueue.
- `DynamoDBStreamPoller` (DynamoDB events): reads the stream per shard in order, BatchSize and
  batching window, Lambda's JSON (eventSourceARN, epoch seconds, base64 binaries). A handler
  error retries the whole batch; batchItemFailures checkpoint before the lowest failed sequence
  number and retry from there; MaximumRetryAttempts (-1: until it succeeds) then OnFailure.

FilterCriteria apply to SQS and DynamoDB events (a filtered-out message is deleted, a filtered-out
stream record is skipped), as on Lambda.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote_plus

import boto3

from local.filters import compile_filters, passes, sqs_view

if TYPE_CHECKING:
    from local.template import Deployment, EventSpec, FunctionSpec
    from local.worker import Invocation, Worker

log = logging.getLogger("local.pollers")

LOCAL_RETRY_SECONDS = 2  # on AWS a failed SQS message waits out the queue's visibility timeout
ASYNC_RETRY_DELAYS = (1, 2)  # Lambda waits about 1 and 2 minutes between async retries
_SQS_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "MessageGroupId",
    "MessageDeduplicationId",
    "SequenceNumber",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def batch_failures(invocation: Invocation, identifiers: list[str], reported: bool) -> set[str] | None:
    """Which records of a batch failed: None for the whole batch, else the failed identifiers.

    Lambda's rules: a handler error fails the batch; without ReportBatchItemFailures any response
    is success; a null/empty response or list is success; an empty, missing or unknown
    itemIdentifier fails the whole batch.
    """
    if not invocation.ok:
        return None
    if not reported or not isinstance(invocation.result, dict):
        return set()
    failures = invocation.result.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in identifiers:
            return None
        failed.add(identifier)
    return failed


class Poller(threading.Thread):
    """A daemon thread that calls `poll_once` until stopped; errors are logged, never fatal."""

    idle_seconds = 0.25

    default_batch_size = 10

    def __init__(
        self,
        worker: Worker,
        function: FunctionSpec,
        event: EventSpec,
        deployment: Deployment,
        session: Any = None,
    ):
        super().__init__(name=f"{function.logical_id}.{event.name}", daemon=True)
        self.worker = worker
        self.function = function
        self.event = event
        self.region = deployment.region
        # boto3 sessions are not thread-safe: each poller (thread) gets its own by default.
        self.session = session or boto3.Session(region_name=self.region)
        self._clients: dict[str, Any] = {}
        self.stopping = threading.Event()
        self.invocations = 0
        self.failures = 0
        # The event source mapping's settings that every kind of source shares.
        props = event.properties
        self.batch_size = int(props.get("BatchSize", self.default_batch_size))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.reported = "ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or [])
        self.filters = compile_filters(props.get("FilterCriteria"))
        self.configure(deployment)

    def configure(self, deployment: Deployment) -> None:
        """The source's own settings and clients, once the shared ones are read."""

    @property
    def label(self) -> str:
        return f"{self.function.logical_id} <- {self.event.type} {self.event.name}"

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                if self.stopping.is_set():
                    break
                log.exception("%s: polling failed; retrying in 1 s", self.label)
                self.stopping.wait(1.0)
                continue
            if not busy:
                self.stopping.wait(self.idle_seconds)

    def poll_once(self) -> bool:  # pragma: no cover - abstract
        """One round; True when there was work (poll again at once)."""
        raise NotImplementedError

    def invoke(self, event: Any) -> Invocation:
        invocation = self.worker.invoke(event)
        self.invocations += 1
        if not invocation.ok and not self.stopping.is_set():
            self.failures += 1
            log.warning(
                "%s: invocation %s failed: %s (log: %s)",
                self.label,
                invocation.request_id,
                invocation.error_message,
                self.worker.log_path,
            )
        return invocation

    def send_to_target(self, arn: str, body: dict, attributes: dict[str, str]) -> None:
        """Deliver a failed event (or its description) to an SQS queue or SNS topic by ARN."""
        message_attributes = {
            key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()
        }
        if arn.startswith("arn:aws:sqs:"):
            sqs = self.client("sqs")
            account, name = arn.split(":")[4], arn.split(":")[5]
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), MessageAttributes=message_attributes)
        elif arn.startswith("arn:aws:sns:"):
            self.client("sns").publish(
                TopicArn=arn, Message=json.dumps(body), MessageAttributes=message_attributes
            )
        else:
            log.error("%s: cannot deliver to %s (only SQS and SNS targets)", self.label, arn)


# ---------------------------------------------------------------------------------------- SQS


def sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    """Lambda's SQS record for a message from ReceiveMessage."""
    attributes = message.get("Attributes") or {}
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {key: attributes[key] for key in _SQS_RECORD_ATTRIBUTES if key in attributes},
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    for name, value in (message.get("MessageAttributes") or {}).items():
        converted: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            converted["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        record["messageAttributes"][name] = converted
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


class SqsPoller(Poller):
    def configure(self, deployment: Deployment) -> None:
        props = self.event.properties
        self.queue_arn = props["Queue"]
        self.sqs = self.client("sqs")
        queue = deployment.by_arn(self.queue_arn)
        self.queue_url = (
            queue.url
            if queue
            else self.sqs.get_queue_url(QueueName=self.queue_arn.split(":")[-1])["QueueUrl"]
        )
        visibility = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"]
        )
        self.retry_seconds = min(LOCAL_RETRY_SECONDS, int(visibility["Attributes"]["VisibilityTimeout"]))

    def _receive(self, count: int, wait: int) -> list[dict]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def poll_once(self) -> bool:
        messages = self._receive(self.batch_size, wait=1)
        if not messages:
            return False
        deadline = time.monotonic() + self.window
        while len(messages) < self.batch_size and not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.batch_size - len(messages), wait=1 if remaining >= 1 else 0)
            if not more and remaining < 1:
                self.stopping.wait(min(remaining, 0.1))
            messages += more
        records = [sqs_record(message, self.queue_arn, self.region) for message in messages]
        receives = [int(record["attributes"].get("ApproximateReceiveCount", 1)) for record in records]
        if max(receives) > 1:
            log.info(
                "%s: redelivering %d of %d messages (ApproximateReceiveCount up to %d)",
                self.label,
                sum(count > 1 for count in receives),
                len(records),
                max(receives),
            )
        filtered_out = [record for record in records if not passes(self.filters, sqs_view(record))]
        records = [record for record in records if passes(self.filters, sqs_view(record))]
        self._delete_messages(filtered_out)
        if not records:
            return True
        invocation = self.invoke({"Records": records})
        failed = batch_failures(invocation, [record["messageId"] for record in records], self.reported)
        if failed is None:
            self._retry_later(records)
        else:
            self._delete_messages([record for record in records if record["messageId"] not in failed])
            self._retry_later([record for record in records if record["messageId"] in failed])
            if failed:
                log.info(
                    "%s: %d of %d messages failed and will be retried", self.label, len(failed), len(records)
                )
        return True

    def _delete_messages(self, records: list[dict]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": record["receiptHandle"]} for i, record in enumerate(chunk)
                ],
            )

    def _retry_later(self, records: list[dict]) -> None:
        """Local only: failed messages reappear after a few seconds, not the queue's full timeout."""
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": record["receiptHandle"],
                        "VisibilityTimeout": self.retry_seconds,
                    }
                    for i, record in enumerate(chunk)
                ],
            )


# ---------------------------------------------------------------------------------------- S3


def complete_s3_record(record: dict, message_id: str, sent_timestamp_ms: int, version_id: str | None) -> dict:
    """Add what S3 puts in a record and moto leaves out, so Powertools' S3Model validates.

    userIdentity, requestParameters, responseElements, bucket.ownerIdentity, object.sequencer,
    and object.versionId in a versioned bucket; the key is URL-encoded as S3 does it.

    Everything is derived from the notification message, so a retried event is identical.
    """
    digest = hashlib.sha256(message_id.encode()).hexdigest().upper()
    record = json.loads(json.dumps(record))
    record.setdefault("userIdentity", {"principalId": "AWS:AIDALOCALNETZONE"})
    record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
    record.setdefault(
        "responseElements",
        {"x-amz-request-id": digest[:16], "x-amz-id-2": base64.b64encode(bytes.fromhex(digest)).decode()},
    )
    s3 = record["s3"]
    s3["bucket"].setdefault("ownerIdentity", {"principalId": "A1LOCALNETZONE"})
    s3_object = s3.get("object") or {}
    if "key" in s3_object:  # moto encodes "/" as %2F; S3 leaves it (spaces are "+" in both)
        s3_object["key"] = quote_plus(unquote_plus(s3_object["key"]), safe="/")
    s3_object.setdefault("sequencer", f"{sent_timestamp_ms:012X}{digest[:6]}")
    if version_id and "versionId" not in s3_object:
        s3_object["versionId"] = version_id
    return record


class S3NotificationPoller(Poller):
    """S3 invokes Lambda asynchronously: retries after errors, then the dead-letter queue."""

    def configure(self, deployment: Deployment) -> None:
        if not self.event.local_queue_url:
            raise ValueError(f"{self.label}: deploy(local_notifications=True) wires S3 events to a queue")
        self.queue_url = self.event.local_queue_url
        self.sqs = self.client("sqs")
        self.s3 = self.client("s3")
        self.max_retries = self.function.async_max_retries

    def poll_once(self) -> bool:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        ).get("Messages", [])
        for message in messages:
            if self.stopping.is_set():
                break
            self._handle(message)
        return bool(messages)

    def _handle(self, message: dict) -> None:
        body = json.loads(message["Body"])
        if body.get("Event") == "s3:TestEvent" or not body.get("Records"):
            self._delete_message(message)
            return
        sent = int(message["Attributes"]["SentTimestamp"])
        event = {
            "Records": [
                complete_s3_record(record, message["MessageId"], sent, self._version_of(record))
                for record in body["Records"]
            ]
        }
        attempt = int(message["Attributes"]["ApproximateReceiveCount"])
        invocation = self.invoke(event)
        if invocation.ok:
            self._delete_message(message)
        elif attempt <= self.max_retries:
            delay = ASYNC_RETRY_DELAYS[min(attempt, len(ASYNC_RETRY_DELAYS)) - 1]
            log.info("%s: async retry %d of %d in %d s", self.label, attempt, self.max_retries, delay)
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=delay
            )
        else:
            self._dead_letter(event, invocation)
            self._delete_message(message)

    def _version_of(self, record: dict) -> str | None:
        """S3 names the object version in the event when the bucket is versioned; moto does not."""
        s3_object = record.get("s3", {}).get("object") or {}
        if "versionId" in s3_object or not record.get("eventName", "").startswith("ObjectCreated"):
            return None
        try:
            head = self.s3.head_object(
                Bucket=record["s3"]["bucket"]["name"],
                Key=unquote_plus(s3_object["key"]),
                IfMatch=f'"{s3_object.get("eTag", "")}"',
            )
        except Exception:  # gone or overwritten since: S3 would still know, we cannot
            return None
        version = head.get("VersionId")
        return version if version and version != "null" else None

    def _dead_letter(self, event: dict, invocation: Invocation) -> None:
        if not self.function.dead_letter_arn:
            log.error("%s: event dropped after %d retries (no DeadLetterQueue)", self.label, self.max_retries)
            return
        assert invocation.error is not None
        self.send_to_target(
            self.function.dead_letter_arn,
            event,
            {
                "RequestID": invocation.request_id,
                "ErrorCode": "200",
                "ErrorMessage": invocation.error.get("errorMessage", "")[:1000],
            },
        )
        log.warning("%s: event sent to the dead-letter queue %s", self.label, self.function.dead_letter_arn)

    def _delete_message(self, message: dict) -> None:
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


# ---------------------------------------------------------------------------------------- DynamoDB


def _lambda_json(value: Any) -> Any:
    """boto3's stream record → the JSON Lambda sends: bytes as base64, datetimes as epoch seconds."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {key: _lambda_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lambda_json(item) for item in value]
    return value


def stream_record(record: dict, stream_arn: str, region: str) -> dict:
    converted = _lambda_json(record)
    converted.update({"eventVersion": "1.1", "awsRegion": region, "eventSourceARN": stream_arn})
    return converted


class _Shard:
    def __init__(self, shard_id: str, iterator: str | None):
        self.shard_id = shard_id
        self.iterator = iterator
        self.buffer: list[dict] = []  # read, not yet checkpointed
        self.first_buffered = 0.0
        self.attempts = 0


class DynamoDBStreamPoller(Poller):
    refresh_seconds = 10.0
    default_batch_size = 100

    def configure(self, deployment: Deployment) -> None:
        props = self.event.properties
        self.stream_arn = props["Stream"]
        self.starting_position = props.get("StartingPosition", "LATEST")
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        self.streams = self.client("dynamodbstreams")
        self.shards: dict[str, _Shard] = {}
        self._finished: set[str] = set()  # closed shards, read to their end
        self._refreshed = 0.0
        # Iterators are taken now, so LATEST means "from the moment the stack started".
        self._refresh(self.starting_position)

    def _refresh(self, position: str) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self.shards and shard_id not in self._finished:
                iterator = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=position
                )["ShardIterator"]
                self.shards[shard_id] = _Shard(shard_id, iterator)
        self._refreshed = time.monotonic()

    def poll_once(self) -> bool:
        if time.monotonic() - self._refreshed > self.refresh_seconds:
            self._refresh("TRIM_HORIZON")  # a new shard is read from its start
        busy = False
        for shard in list(self.shards.values()):
            busy = self._poll_shard(shard) or busy
            if shard.iterator is None and not shard.buffer:
                del self.shards[shard.shard_id]
                self._finished.add(shard.shard_id)
        return busy

    def _read(self, shard: _Shard) -> None:
        if shard.iterator is None or len(shard.buffer) >= self.batch_size:
            return
        response = self.streams.get_records(
            ShardIterator=shard.iterator, Limit=self.batch_size - len(shard.buffer)
        )
        shard.iterator = response.get("NextShardIterator")  # None once a shard is closed
        records = [
            stream_record(record, self.stream_arn, self.region) for record in response.get("Records", [])
        ]
        if records and not shard.buffer:
            shard.first_buffered = time.monotonic()
        shard.buffer += records

    def _poll_shard(self, shard: _Shard) -> bool:
        self._read(shard)
        if not shard.buffer:
            return False
        if len(shard.buffer) < self.batch_size and time.monotonic() - shard.first_buffered < self.window:
            return False  # the batching window is still open
        batch = shard.buffer[: self.batch_size]
        records = [record for record in batch if passes(self.filters, record)]
        if not records:
            self._checkpoint(shard, len(batch))
            return True
        invocation = self.invoke({"Records": records})
        sequence = [record["dynamodb"]["SequenceNumber"] for record in batch]
        failed = batch_failures(
            invocation, [record["dynamodb"]["SequenceNumber"] for record in records], self.reported
        )
        if failed == set():
            self._checkpoint(shard, len(batch))
            return True
        # Checkpoint before the lowest failed sequence number and retry from there.
        first = 0 if failed is None else min(sequence.index(number) for number in failed)
        shard.buffer = shard.buffer[first:]
        shard.attempts = 1 if first > 0 else shard.attempts + 1
        if 0 <= self.max_retries < shard.attempts:
            self._give_up(shard, batch[first:], invocation)
            return True
        self.stopping.wait(min(0.5 * shard.attempts, 5.0))  # back off while the shard is blocked
        return True

    def _checkpoint(self, shard: _Shard, count: int) -> None:
        shard.buffer = shard.buffer[count:]
        shard.attempts = 0
        shard.first_buffered = time.monotonic()

    def _give_up(self, shard: _Shard, records: list[dict], invocation: Invocation) -> None:
        """Retries exhausted: describe the batch to the OnFailure destination and move on."""
        log.warning(
            "%s: %d records skipped after %d retries (shard %s)",
            self.label,
            len(records),
            self.max_retries,
            shard.shard_id,
        )
        if self.on_failure:
            self.send_to_target(self.on_failure, self.failure_record(shard, records, invocation), {})
        self._checkpoint(shard, len(records))

    def failure_record(self, shard: _Shard, records: list[dict], invocation: Invocation) -> dict:
        """The invocation record Lambda sends to a stream's on-failure destination."""
        created = [record["dynamodb"].get("ApproximateCreationDateTime") for record in records]

        def iso(epoch: int | None) -> str | None:
            return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z") if epoch else None

        return {
            "requestContext": {
                "requestId": invocation.request_id or str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": shard.attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if not invocation.ok else "",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso(created[0]),
                "approximateArrivalOfLastRecord": iso(created[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }


POLLERS = {"SQS": SqsPoller, "S3": S3NotificationPoller, "DynamoDB": DynamoDBStreamPoller}
