"""The network table: network objects under one partition, audit entries under their scopes.

    pk NETWORK          sk CONSORTIUM | MEMBER#<code> | LIBRARY#<member>#<code> |
                           GROUP#<owner>#<code> | PROVIDER#<code> | STAFF#<member or ->#<username>
    pk AUDIT#MEMBER#<code or ->         sk <timestamp>#<id>   (newest first when listed)
    pk AUDIT#OBJECT#<type>#<id>         sk <timestamp>#<id>

Network objects are few (hundreds) and read by key or listed page by page with a key-prefix
Query, so one partition serves them; writes carry the version condition and the audit puts in
one transaction.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from netzone.adapters import AwsAdapter
from netzone.adapters.dynamodb import _is_condition_failure, batch_get, from_item, query_page, to_item
from netzone.feeds import FeedProvider
from netzone.merge import DEFAULT_PRIORITY
from netzone.network import AuditEntry, VersionMismatch, audit_scopes, provider_key
from netzone.problems import Problem

PARTITION = "NETWORK"


def _position(after: str, prefix: str) -> str:
    """The sort key a page starts after. Tokens are signed at the API's edge (netzone.paging);
    this is the store's own guard that a position lies in the list it is asked for."""
    if not after.startswith(prefix):
        raise Problem(422, "invalid-next-token", "next belongs to a different list")
    return after


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data.pop("pk", None)
    data.pop("sk", None)
    return _ints(data)


def _ints(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the network model only has integers."""
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value)
    return value


class DynamoNetworkStore(AwsAdapter):
    service = "dynamodb"

    def __init__(self, table_name: str, client=None):
        super().__init__(client)
        self.table = table_name

    def get(self, key: str) -> dict | None:
        response = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": PARTITION, "sk": key}), ConsistentRead=True
        )
        return _clean(from_item(response["Item"])) if "Item" in response else None

    def get_many(self, keys: list[str]) -> dict[str, dict]:
        unique = list(dict.fromkeys(keys))
        items = batch_get(self.client, self.table, [{"pk": PARTITION, "sk": k} for k in unique])
        return {i["sk"]: _ints({k: v for k, v in i.items() if k not in ("pk", "sk")}) for i in items}

    def page(self, prefix: str, limit: int, after: str | None) -> tuple[list[dict], str | None]:
        return self._query(PARTITION, prefix, limit, after, forward=True)

    def audit_page(self, scope: str, limit: int, after: str | None) -> tuple[list[dict], str | None]:
        return self._query(f"AUDIT#{scope}", "", limit, after, forward=False)

    def _query(
        self, pk: str, prefix: str, limit: int, after: str | None, forward: bool
    ) -> tuple[list[dict], str | None]:
        start = _position(after, prefix) if after else None
        items, last = query_page(self.client, self.table, pk, limit, start, forward, prefix)
        return [_clean(i) for i in items], last

    def write(self, key: str, item: dict, expected_version: int | None, audit: AuditEntry) -> None:
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": to_item({":expected": expected_version}),
            }
        entry = audit.model_dump(mode="json")
        actions = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": PARTITION, "sk": key, **item}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    **condition,
                }
            }
        ]
        actions += [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": f"AUDIT#{scope}", "sk": audit.id, **entry}),
                }
            }
            for scope in audit_scopes(audit)
        ]
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            current = self.get(key)
            raise VersionMismatch(None if current is None else int(current["version"])) from error


class ProviderRegistry:
    """The registered providers as feeds and merging see them (formats, feed mode, management
    level, source priority), read from the network table and cached briefly: a warm function
    sees a changed provider within `ttl` seconds."""

    def __init__(self, store: DynamoNetworkStore, ttl: float = 300.0, clock=time.monotonic):
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, FeedProvider | None]] = {}

    def feed_provider(self, code: str) -> FeedProvider | None:
        cached = self._cache.get(code)
        if cached and self.clock() - cached[0] < self.ttl:
            return cached[1]
        item = self.store.get(provider_key(code))
        found = FeedProvider.model_validate(item, from_attributes=False) if item else None
        self._cache[code] = (self.clock(), found)
        return found

    def priority(self, provider: str) -> int:
        found = self.feed_provider(provider)
        return found.merge_priority if found else DEFAULT_PRIORITY
