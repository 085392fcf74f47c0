"""Lambda's event-source semantics in the local stack, with a test-only template and handlers.

fixtures/template.yaml: an SQS queue with a redrive policy (maxReceiveCount 2), a DynamoDB
stream (BatchSize 5, MaximumRetryAttempts 2, OnFailure queue), an S3 bucket notifying a function
with a DeadLetterQueue (MaximumRetryAttempts 1), and an API. The handlers count every delivery in
ResultsTable; the tests read those counts back.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from harness import Stack, wait_for

pytestmark = pytest.mark.integration


def attempts(stack: Stack, key: str) -> int:
    item = stack.client("dynamodb").get_item(TableName=stack.name("ResultsTable"), Key={"pk": {"S": key}})
    return int(item["Item"]["attempts"]["N"]) if "Item" in item else 0


def details(stack: Stack, key: str) -> dict:
    item = stack.client("dynamodb").get_item(TableName=stack.name("ResultsTable"), Key={"pk": {"S": key}})
    return json.loads(item["Item"]["details"]["S"])


def receive_all(stack: Stack, logical_id: str, expected: int, timeout: float = 20) -> list[dict]:
    sqs = stack.client("sqs")
    url = stack.state["resources"][logical_id]["url"]
    messages: list[dict] = []

    def enough() -> bool:
        messages.extend(
            sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
            ).get("Messages", [])
        )
        return len(messages) >= expected

    wait_for(enough, timeout, f"{expected} message(s) on {logical_id}", interval=0)
    return messages


def queue_is_empty(stack: Stack, logical_id: str) -> bool:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.state["resources"][logical_id]["url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"]
        == attributes["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )


# ---------------------------------------------------------------------------------------- SQS


def test_sqs_partial_failure_deletes_the_successes_and_redrives_the_poison(fixture_stack: Stack) -> None:
    stack = fixture_stack
    url = stack.state["resources"]["WorkQueue"]["url"]
    entries = [{"Id": str(n), "MessageBody": json.dumps({"id": f"ok-{n}"})} for n in range(9)]
    entries.insert(4, {"Id": "p", "MessageBody": json.dumps({"id": "poison-1", "poison": True})})
    stack.client("sqs").send_message_batch(QueueUrl=url, Entries=entries)
    stack.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"id": "filtered", "skip": True}))

    (dead,) = receive_all(stack, "WorkDeadLetterQueue", expected=1)

    assert json.loads(dead["Body"])["id"] == "poison-1"
    assert attempts(stack, "sqs#poison-1") == 2  # maxReceiveCount 2, then the dead-letter queue
    assert [attempts(stack, f"sqs#ok-{n}") for n in range(9)] == [1] * 9  # deleted after success
    assert attempts(stack, "sqs#filtered") == 0  # FilterCriteria: deleted without an invocation
    wait_for(lambda: queue_is_empty(stack, "WorkQueue"), 10, "an empty work queue")


def test_sqs_handler_error_deletes_nothing_and_the_batch_comes_back(fixture_stack: Stack) -> None:
    stack = fixture_stack
    url = stack.state["resources"]["WorkQueue"]["url"]
    stack.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"id": "crash-once", "crash": 2}))

    wait_for(lambda: attempts(stack, "sqs#crash-once"), 15, "the retried message")

    assert details(stack, "sqs#crash-once")["receive_count"] == "2"
    wait_for(lambda: queue_is_empty(stack, "WorkQueue"), 10, "an empty work queue")


# ---------------------------------------------------------------------------------------- DynamoDB


def test_stream_checkpoints_before_a_failed_record_then_gives_up_after_the_retries(
    fixture_stack: Stack,
) -> None:
    stack = fixture_stack
    table = stack.name("SourceTable")
    keys = ["s-1", "s-2", "poison-1", "s-3", "ignored-1"]
    stack.client("dynamodb").batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": {"S": key}, "blob": {"B": b"\x00\x01\xff"}, "n": {"N": "7"}}}}
                for key in keys
            ]
        }
    )

    (failure,) = receive_all(stack, "StreamFailureQueue", expected=1)

    info = json.loads(failure["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["requestContext"]["approximateInvokeCount"] == 3
    batch = info["DDBStreamBatchInfo"]
    assert batch["streamArn"] == stack.state["resources"]["SourceTable"]["stream_arn"]
    assert batch["startSequenceNumber"] == details(stack, "stream#poison-1")["sequence"]
    # Before the failed record: processed once, checkpointed. From it on: retried with it.
    assert attempts(stack, "stream#s-1") == attempts(stack, "stream#s-2") == 1
    assert attempts(stack, "stream#poison-1") == 3  # first try + MaximumRetryAttempts 2
    assert attempts(stack, "stream#s-3") == 3
    assert attempts(stack, "stream#ignored-1") == 0  # FilterCriteria
    seen = details(stack, "stream#s-1")
    assert seen["event_name"] == "INSERT"
    assert seen["source_arn"] == batch["streamArn"]
    assert isinstance(seen["created"], int)
    assert seen["new_image"]["blob"] == {"B": base64.b64encode(b"\x00\x01\xff").decode()}
    assert seen["new_image"]["n"] == {"N": "7"}

    # The shard moved on: later changes are delivered.
    stack.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "s-4"}})
    wait_for(lambda: attempts(stack, "stream#s-4"), 10, "a record written after the skipped batch")


def test_stream_handler_error_retries_the_whole_batch(fixture_stack: Stack) -> None:
    stack = fixture_stack
    stack.client("dynamodb").put_item(TableName=stack.name("SourceTable"), Item={"pk": {"S": "crash-1"}})

    wait_for(lambda: attempts(stack, "stream#crash-1"), 15, "the batch after the handler error")

    assert attempts(stack, "crash#crash-1") == 2  # failed once as a whole, then succeeded
    assert attempts(stack, "stream#crash-1") == 1


# ---------------------------------------------------------------------------------------- S3


def test_s3_events_are_complete_and_failed_ones_reach_the_dead_letter_queue(fixture_stack: Stack) -> None:
    stack = fixture_stack
    s3 = stack.client("s3")
    bucket = stack.state["outputs"]["UploadBucketName"]
    s3.put_object(Bucket=bucket, Key="in/a file+1.txt", Body=b"hello")
    s3.put_object(Bucket=bucket, Key="in/poison.txt", Body=b"bad")
    s3.put_object(Bucket=bucket, Key="elsewhere/x.txt", Body=b"not for the function")

    (dead,) = receive_all(stack, "UploadDeadLetterQueue", expected=1)

    event = json.loads(dead["Body"])
    assert event["Records"][0]["s3"]["object"]["key"] == "in/poison.txt"
    assert dead["MessageAttributes"]["ErrorMessage"]["StringValue"] == "cannot handle in/poison.txt"
    assert attempts(stack, "s3#in/poison.txt") == 2  # MaximumRetryAttempts 1
    assert attempts(stack, "s3#in/a file+1.txt") == 1  # the handler's S3Model accepted the event
    seen = details(stack, "s3#in/a file+1.txt")
    assert seen["sequencer"]
    assert 0 < seen["remaining_ms"] <= 10_000
    time.sleep(0.5)
    assert attempts(stack, "s3#elsewhere/x.txt") == 0  # outside the prefix filter


# ---------------------------------------------------------------------------------------- API


def test_http_requests_become_api_gateway_proxy_events(fixture_stack: Stack) -> None:
    stack = fixture_stack
    response = stack.get(
        "/echo/hello", params=[("x", "1"), ("x", "2"), ("y", "3")], headers={"X-Test": "yes"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["X-Function"] == "fx-EchoFunction"
    body = response.json()
    event = body["event"]
    assert event["resource"] == "/echo/{name}"
    assert event["path"] == "/echo/hello"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"name": "hello"}
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["headers"]["X-Test"] == "yes"
    assert event["multiValueHeaders"]["X-Test"] == ["yes"]
    assert event["body"] is None
    context = event["requestContext"]
    assert context["stage"] == "test"
    assert context["resourcePath"] == "/echo/{name}"
    assert context["path"] == "/test/echo/hello"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert body["memory"] == "256"

    # A literal path beats a parameter; the deployed URL's stage prefix works too.
    assert stack.get("/test/echo/special").json()["event"]["resource"] == "/echo/special"


def test_bodies_proxy_paths_and_binary_responses(fixture_stack: Stack) -> None:
    stack = fixture_stack
    import requests

    posted = requests.post(stack.api + "/echo", data='{"a": 1}', timeout=10)
    assert posted.status_code == 201
    assert posted.json()["event"]["body"] == '{"a": 1}'

    binary = bytes(range(200, 256))
    put = requests.put(stack.api + "/files/a/b/c.bin", data=binary, timeout=10).json()["event"]
    assert put["resource"] == "/files/{proxy+}"
    assert put["pathParameters"] == {"proxy": "a/b/c.bin"}
    assert put["isBase64Encoded"] is True
    assert base64.b64decode(put["body"]) == binary

    response = stack.get("/binary")
    assert response.content == bytes(range(256))
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_handler_errors_and_missing_routes(fixture_stack: Stack) -> None:
    boom = fixture_stack.get("/boom")
    assert boom.status_code == 502
    assert boom.json() == {"message": "Internal server error"}

    missing = fixture_stack.get("/echo")  # only POST /echo exists: the method is missing (RFC 9110)
    assert missing.status_code == 405 and missing.headers["Allow"] == "POST"
    assert missing.json()["code"] == "method-not-allowed"
    nowhere = fixture_stack.get("/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json()["detail"] == "No route GET /nowhere"

    index = fixture_stack.get("/").json()
    assert {
        "method": "ANY",
        "path": "/files/{proxy+}",
        "function": "EchoFunction",
        "stage": "test",
        "authorizer": None,
    } in index["routes"]
