"""What every DynamoDB adapter shares: the item codec, batch reads and writes with retries,
paged queries, version conditions, and telling a failed condition from other errors.

The stores, one module each: `catalog_store` (source records, clusters, key items, review
tasks), `portfolio_store` (portfolios, in the catalog table), `job_store` (feed jobs) and
`network_store` (the network table). Clients are created lazily (never at import time) and
honour AWS_ENDPOINT_URL (`netzone.adapters.AwsAdapter`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from netzone.adapters import AwsAdapter

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# The attribute that holds an item's seen mark (`batches.seen_mark`; the domain calls it
# `seen_mark`). Its stored name is older than marks, and the ByFeedProvider index projects it.
SEEN_ATTRIBUTE = "seen_job"
# A seen mark only moves forward (batches.newer_mark): the item carries no mark, a bare job id
# from before marks, or an older mark.
UNSEEN = (
    f"attribute_not_exists({SEEN_ATTRIBUTE}) OR NOT contains({SEEN_ATTRIBUTE}, :hash) "
    f"OR {SEEN_ATTRIBUTE} < :mark"
)
SEEN_BEFORE = f"attribute_exists(pk) AND ({UNSEEN})"


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as a DynamoDB item (attributes that are None are left out)."""
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a plain dict (binary attributes as bytes, numbers as Decimal)."""
    data = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: (v.value if isinstance(v, Binary) else v) for k, v in data.items()}


def is_condition_failure(error: ClientError) -> bool:
    """Whether a write failed on its condition (alone, or as part of a transaction)."""
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        return any(
            (r or {}).get("Code") == "ConditionalCheckFailed" for r in reasons
        ) or "ConditionalCheckFailed" in str(error)
    return False


def conditional_write(write: Callable[[], object]) -> bool:
    """Make a conditional write: True when it was made, False when its condition failed."""
    try:
        write()
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def set_seen_mark(client, table: str, key: dict[str, str], mark: str) -> bool:
    """Set an item's seen mark to `mark` unless it carries that mark or a newer one (marks never
    move back): False then. Its version moves too, so a full-replacement withdrawal that read
    the item before it was seen (the index lags) fails its version check, re-reads and keeps it."""
    return conditional_write(
        lambda: client.update_item(
            TableName=table,
            Key=to_item(key),
            UpdateExpression=f"SET {SEEN_ATTRIBUTE} = :mark, version = version + :one",
            ConditionExpression=SEEN_BEFORE,
            ExpressionAttributeValues=to_item({":mark": mark, ":hash": "#", ":one": 1}),
        )
    )


def version_condition(expected: int | None) -> dict[str, Any]:
    """The condition of a versioned put: the item is at `expected` (None: it is not there yet)."""
    if expected is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": {"N": str(expected)}},
    }


def query_page(
    client, table: str, pk: str, limit: int, after: str | None, forward: bool = True, prefix: str = ""
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a partition, in sort-key order (optionally only sort keys starting with
    `prefix`): its items as plain dicts, and the sort key the next page starts after."""
    values = {":pk": pk} | ({":prefix": prefix} if prefix else {})
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else ""),
        "ExpressionAttributeValues": to_item(values),
        "Limit": limit,
        "ScanIndexForward": forward,
    }
    if after:
        request["ExclusiveStartKey"] = to_item({"pk": pk, "sk": after})
    response = client.query(**request)
    last = response.get("LastEvaluatedKey")
    return [from_item(i) for i in response.get("Items", [])], (from_item(last)["sk"] if last else None)


def query_all(client, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a Query finds, page after page, as DynamoDB returns them (not decoded)."""
    request = dict(request)
    while True:
        page = client.query(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_get(client, table: str, keys: list[dict[str, Any]], attempts: int = 8) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with backoff."""
    found: list[dict[str, Any]] = []

    def send(request: dict[str, Any]) -> dict[str, Any]:
        response = client.batch_get_item(RequestItems=request)
        found.extend(from_item(i) for i in response.get("Responses", {}).get(table, []))
        return response.get("UnprocessedKeys") or {}

    for start in range(0, len(keys), 100):
        request = {table: {"Keys": [to_item(k) for k in keys[start : start + 100]]}}
        _until_processed(send, request, attempts, f"BatchGetItem on {table} left keys unprocessed")
    return found


def batch_put(client, table: str, items: Iterable[dict[str, Any]], attempts: int = 8) -> None:
    """BatchWriteItem puts in chunks of 25, retrying unprocessed items with backoff."""
    pending = [{"PutRequest": {"Item": to_item(i)}} for i in items]

    def send(request: dict[str, Any]) -> dict[str, Any]:
        return client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    for start in range(0, len(pending), 25):
        request = {table: pending[start : start + 25]}
        _until_processed(send, request, attempts, f"BatchWriteItem on {table} left items unprocessed")


def _until_processed(
    send: Callable[[dict[str, Any]], dict[str, Any]], request: dict[str, Any], attempts: int, failure: str
) -> None:
    """Send a batch request, then what DynamoDB left unprocessed (what `send` returns), with
    backoff, until nothing is left."""
    for attempt in range(attempts):
        request = send(request)
        if not request:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RuntimeError(f"{failure} after {attempts} attempts")


class DynamoTable(AwsAdapter):
    """An adapter over one DynamoDB table, named by the function's settings."""

    service = "dynamodb"

    def __init__(self, table_name: str, client=None):
        super().__init__(client)
        self.table = table_name
