"""local.moto_server's TransactWriteItems patch: the same outcomes as moto's own, without copying
whole tables (in-process moto; the patch is reverted after each test)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_server

TABLE = "t"


def _scenario(dynamodb) -> dict:
    """Successful and failed transactions; returns the table's items and its stream's events."""
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )

    def put(sk: str, version: int, expected: int | None = None) -> dict:
        action: dict = {
            "TableName": TABLE,
            "Item": {"pk": {"S": "N"}, "sk": {"S": sk}, "v": {"N": str(version)}},
        }
        if expected is None:
            action["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            action["ConditionExpression"] = "v = :v"
            action["ExpressionAttributeValues"] = {":v": {"N": str(expected)}}
        return {"Put": action}

    audit = {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "AUDIT"}, "sk": {"S": "1"}}}}
    dynamodb.transact_write_items(TransactItems=[put("a", 1), audit])
    failures = []
    for items in (
        [put("b", 1), put("a", 1)],  # the second fails: b must not appear
        [put("a", 2, expected=7), {**audit}],  # stale version
        [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "N"}, "sk": {"S": "a"}},
                    "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"S": "changed"}},
                }
            },
            put("c", 1, expected=3),
        ],  # an in-place update rolled back
        [put("d", 1), put("d", 1)],  # the same item twice
    ):
        with pytest.raises(ClientError) as error:
            dynamodb.transact_write_items(TransactItems=items)
        failures.append(error.value.response["Error"]["Code"])
    dynamodb.transact_write_items(
        TransactItems=[
            put("a", 2, expected=1),
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "AUDIT"}, "sk": {"S": "1"}}}},
        ]
    )
    items = sorted(
        (item["pk"]["S"], item["sk"]["S"], item.get("v", {}).get("N"), item.get("x", {}).get("S"))
        for item in dynamodb.scan(TableName=TABLE)["Items"]
    )
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    events = [
        (r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"], r["dynamodb"]["SequenceNumber"]) for r in records
    ]
    return {"items": items, "failures": failures, "events": events}


def run_scenario(patched: bool, cached: bool = False) -> dict:
    if patched:
        moto_server.apply()
    if cached:
        moto_server._cache_condition_expressions()
    try:
        with mock_aws():
            return _scenario(boto3.client("dynamodb", region_name="us-east-1"))
    finally:
        moto_server.revert()
        moto_server.revert_server()


def test_cached_condition_expressions_give_the_same_outcomes() -> None:
    assert run_scenario(True, cached=True) == run_scenario(False)


def test_a_cached_parse_reports_the_names_and_values_it_found() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    def parse() -> tuple:
        parser = ConditionExpressionParser(
            "#v = :v AND attribute_exists(pk)", {"#v": "v"}, {":v": {"N": "1"}}
        )
        op = parser.parse()
        return op, parser.expr_attr_names_found, parser.expr_attr_values_found

    uncached = parse()
    moto_server._cache_condition_expressions()
    try:
        first, second = parse(), parse()
    finally:
        moto_server.revert_server()
    assert first[1:] == second[1:] == uncached[1:] == (["#v", "pk"], [":v"])
    assert second[0] is first[0]  # the second parse was a hit
    assert ConditionExpressionParser("x = :v", None, {":v": {"N": "1"}}).parse() is not first[0]


def test_a_failed_transaction_restores_items_without_copying_the_table() -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    moto_server.apply()
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            _scenario(dynamodb)
            table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE]
            with pytest.raises(ClientError):
                dynamodb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "N"}, "sk": {"S": "new"}}}},
                        {
                            "Put": {
                                "TableName": TABLE,
                                "Item": {"pk": {"S": "N"}, "sk": {"S": "a"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
            # moto's own rollback swaps in a deep copy of the whole table; the patch restores items.
            assert dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE] is table
            assert "new" not in {item["sk"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]}
            # copy.deepcopy of a table outside a transaction is still a real copy
            import copy

            assert copy.deepcopy(table) is not table
    finally:
        moto_server.revert()


def _hash_key_table(**options):
    """The table TABLE keyed by `pk` alone; its client."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **options,
    )
    return dynamodb


def _model_scenario() -> dict:
    """Item sizes at and over the limit, and a queue received, deleted and redelivered."""
    dynamodb = _hash_key_table()
    outcomes: list = []
    for size in (1_000, 380_000, 430_000):  # a long list counts element by element
        item = {
            "pk": {"S": f"item-{size}"},
            "clusters": {"L": [{"S": "x" * 98} for _ in range(size // 100)]},
            "title": {"S": "t"},
        }
        try:
            dynamodb.put_item(TableName=TABLE, Item=item)
            outcomes.append(
                ("stored", len(dynamodb.get_item(TableName=TABLE, Key={"pk": item["pk"]})["Item"]))
            )
        except ClientError as error:
            outcomes.append(("refused", error.response["Error"]["Message"]))

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for n in range(25):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    deleted = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(first[:6])]
        + [{"Id": "bogus", "ReceiptHandle": "not-a-receipt-handle"}],
    )
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])  # twice: accepted
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[6]["ReceiptHandle"], VisibilityTimeout=0)
    rest = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        rest += batch
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # A message past the queue's retention period is not delivered (moto stops the receive there).
    short = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=short, MessageBody=f"s{n}")
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues["short"]._messages[1].sent_timestamp -= 120_000
    expired = [
        [m["Body"] for m in sqs.receive_message(QueueUrl=short, MaxNumberOfMessages=10).get("Messages", [])]
        for _ in range(3)
    ]
    return {
        "expired": expired,
        "items": outcomes,
        "first": [m["Body"] for m in first],
        "deleted": (sorted(e["Id"] for e in deleted["Successful"]), [e["Id"] for e in deleted["Failed"]]),
        "rest": sorted(m["Body"] for m in rest),
        "left": (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]),
    }


def test_item_size_and_queue_patches_give_the_same_answers() -> None:
    with mock_aws():
        unpatched = _model_scenario()
    moto_server._constant_item_size()
    moto_server._constant_time_queue()
    try:
        with mock_aws():
            patched = _model_scenario()
    finally:
        moto_server.revert_server()
    assert patched == unpatched
    # The scenario exercises what it claims: a refusal, a redelivery, a failed delete.
    assert [kind for kind, _ in patched["items"]] == ["stored", "stored", "refused"]
    assert "m6" in patched["rest"] and patched["deleted"][1] == ["bogus"]
    # 15 never received, and m6 made visible again; m7-m9 are still in flight.
    assert len(patched["rest"]) == 25 - 10 + 1 and patched["left"] == ("0", "3")
    assert all("s1" not in bodies for bodies in patched["expired"])  # the aged message never comes


EVERY_TYPE = {
    "pk": {"S": "every-type"},
    "n": {"N": "12.5"},
    "b": {"B": b"\x00\xffbinary"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "m": {"M": {"inner": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"M": {"deep": {"N": "3"}}}]}}},
    "l": {"L": [{"S": f"CLU{n:04d}"} for n in range(100)]},
    "null": {"NULL": True},
    "bool": {"BOOL": True},
}


def _wire_scenario() -> list:
    """Every attribute type through every read and write path, and a malformed value."""
    dynamodb = _hash_key_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    key = {"pk": EVERY_TYPE["pk"]}
    answers: list = [
        dynamodb.put_item(TableName=TABLE, Item=EVERY_TYPE, ReturnValues="ALL_OLD").get("Attributes")
    ]
    answers.append(dynamodb.get_item(TableName=TABLE, Key=key)["Item"])
    answers.append(dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [key]}})["Responses"])
    answers.append(
        dynamodb.query(
            TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": key["pk"]}
        )["Items"]
    )
    answers.append(dynamodb.scan(TableName=TABLE, FilterExpression="#b = :t", ExpressionAttributeNames={"#b": "bool"},
                                 ExpressionAttributeValues={":t": {"BOOL": True}})["Items"])  # fmt: skip
    answers.append(
        dynamodb.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET l = list_append(l, :more), n = n + :one",
            ExpressionAttributeValues={":more": {"L": [{"S": "CLU9999"}]}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    )
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {**EVERY_TYPE, "pk": {"S": "second"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
    )
    # boto3 would refuse these before sending: what moto does with them is the point.
    unchecked = boto3.client("dynamodb", region_name="us-east-1", config=Config(parameter_validation=False))
    for malformed in ({"S": "x", "N": "1"}, {"Q": "unknown"}, {"S": None}):
        try:
            unchecked.put_item(TableName=TABLE, Item={"pk": {"S": "bad"}, "v": malformed})
            answers.append(
                ("stored", dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "bad"}}).get("Item"))
            )
        except Exception as error:  # the error itself is the answer compared
            answers.append(("refused", type(error).__name__, str(error)))
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    for record in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
        answers.append(
            (record["eventName"], record["dynamodb"].get("OldImage"), record["dynamodb"].get("NewImage"))
        )
    return answers


def test_attribute_values_read_by_their_one_member_give_the_same_wire_answers() -> None:
    with mock_aws():
        unpatched = _wire_scenario()
    moto_server._attribute_values_by_their_member()
    try:
        with mock_aws():
            patched = _wire_scenario()
    finally:
        moto_server.revert_server()
    assert patched == unpatched
    assert patched[1] == EVERY_TYPE  # and the answers are the item itself
    assert sum(1 for answer in patched if isinstance(answer, tuple) and answer[0] == "refused") >= 2
