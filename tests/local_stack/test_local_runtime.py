"""Pure pieces of the local stack: event filters, batch outcomes, record shapes, API routing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, S3Model, SqsModel

from local.api import Route
from local.filters import compile_filters, matches, passes, sqs_view
from local.pollers import batch_failures, complete_s3_record, sqs_record, stream_record
from local.worker import Invocation


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"eventName": ["REMOVE"]}, False),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "POLICY#"}]}}}}, True),
        ({"dynamodb": {"Keys": {"pk": {"S": [{"anything-but": {"prefix": "POLICY#"}}]}}}}, False),
        ({"dynamodb": {"NewImage": {"version": {"N": [{"numeric": [">", 2, "<=", 3]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"gone": [{"exists": False}]}}}, True),
        ({"dynamodb": {"NewImage": {"gone": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"name": {"S": [{"equals-ignore-case": "LAKESHORE"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"name": {"S": [{"wildcard": "Lake*"}]}}}}, True),
        ({"$or": [{"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}]}, True),
    ],
)
def test_filter_patterns(pattern: dict, expected: bool) -> None:
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"pk": {"S": "POLICY#1"}},
            "NewImage": {"pk": {"S": "POLICY#1"}, "version": {"N": "3"}, "name": {"S": "Lakeshore"}},
        },
    }
    assert matches(pattern, record) is expected


def test_sqs_bodies_are_filtered_as_json_when_they_are_json() -> None:
    patterns = compile_filters({"Filters": [{"Pattern": '{"body": {"kind": ["bib"]}}'}]})
    assert passes(patterns, sqs_view({"body": json.dumps({"kind": "bib"})}))
    assert not passes(patterns, sqs_view({"body": json.dumps({"kind": "patron"})}))
    assert not passes(patterns, sqs_view({"body": "plain text"}))
    assert passes([], sqs_view({"body": "anything passes without filters"}))


def test_batch_outcomes_follow_lambdas_rules() -> None:
    ids = ["m1", "m2"]

    def outcome(result: object, ok: bool = True, reported: bool = True) -> set[str] | None:
        return batch_failures(Invocation("r", ok=ok, result=result), ids, reported)

    assert outcome(None, ok=False) is None  # handler error: the whole batch
    assert outcome(None) == set()
    assert outcome({"batchItemFailures": []}) == set()
    assert outcome({"batchItemFailures": [{"itemIdentifier": "m2"}]}) == {"m2"}
    assert outcome({"batchItemFailures": [{"itemIdentifier": "m2"}]}, reported=False) == set()
    assert outcome({"batchItemFailures": [{"itemIdentifier": ""}]}) is None
    assert outcome({"batchItemFailures": [{"itemIdentifier": "elsewhere"}]}) is None


def test_records_validate_against_powertools_models() -> None:
    message = {
        "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "ReceiptHandle": "handle",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1545082649185",
        },
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "bib"}},
    }
    sqs = sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    SqsModel.model_validate({"Records": [sqs]})
    assert sqs["messageAttributes"]["kind"]["stringValue"] == "bib"

    moto_s3 = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-01-01T00:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "c",
            "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
            "object": {"key": "feeds%2Fharbor%2Fa+b.mrc", "size": 3, "eTag": "abc"},
        },
    }
    with pytest.raises(ValueError, match="validation errors"):
        S3Model.model_validate({"Records": [moto_s3]})
    completed = complete_s3_record(moto_s3, "message-1", 1_700_000_000_000, "v1")
    S3Model.model_validate({"Records": [completed]})
    assert completed["s3"]["object"]["key"] == "feeds/harbor/a+b.mrc"
    assert completed["s3"]["object"]["versionId"] == "v1"
    assert completed == complete_s3_record(
        moto_s3, "message-1", 1_700_000_000_000, "v1"
    )  # retries are identical

    boto_stream = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "set": {"BS": [b"\x01"]}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    stream = stream_record(
        boto_stream, "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x", "us-east-1"
    )
    json.dumps(stream)
    assert stream["dynamodb"]["ApproximateCreationDateTime"] == 1767225600
    assert stream["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    assert stream["eventSourceARN"].endswith("/stream/x")
    DynamoDBStreamModel.model_validate({"Records": [stream]})


@pytest.mark.parametrize(
    ("route", "path", "expected"),
    [
        ("/bibs/{id}", "/bibs/abc", {"id": "abc"}),
        ("/bibs/{id}", "/bibs/abc/holdings", None),
        ("/bibs/{id}", "/bibs", None),
        ("/files/{proxy+}", "/files/a/b", {"proxy": "a/b"}),
        ("/files/{proxy+}", "/files", None),
        ("/feeds/jobs/{job_id}", "/feeds/jobs/42", {"job_id": "42"}),
    ],
)
def test_route_matching(route: str, path: str, expected: dict | None) -> None:
    found = Route("GET", route, "Fn", "api", "v1").match(path)
    assert (found[1] if found else None) == expected


def test_the_most_specific_route_wins() -> None:
    literal = Route("GET", "/bibs/search", "Fn", "api", "v1").match("/bibs/search")
    parameter = Route("GET", "/bibs/{id}", "Fn", "api", "v1").match("/bibs/search")
    greedy = Route("GET", "/bibs/{proxy+}", "Fn", "api", "v1").match("/bibs/search")
    assert literal and parameter and greedy
    assert literal[0] > parameter[0] > greedy[0]
