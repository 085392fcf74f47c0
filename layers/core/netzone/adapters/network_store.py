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

from netzone.adapters.dynamodb import (
    DynamoTable,
    batch_get,
    from_item,
    is_condition_failure,
    query_page,
    to_item,
    version_condition,
)
from netzone.errors import VersionConflict
from netzone.merge import DEFAULT_PRIORITY
from netzone.network import ANY_OWNER, AuditEntry, ObjectKind, Owner, Ref
from netzone.paging import InvalidPageToken
from netzone.providers import FeedProvider

PARTITION = "NETWORK"
KIND_PREFIX: dict[ObjectKind, str] = {
    "consortium": "CONSORTIUM",
    "member": "MEMBER#",
    "library": "LIBRARY#",
    "group": "GROUP#",
    "provider": "PROVIDER#",
    "staff": "STAFF#",
}


def object_key(ref: Ref) -> str:
    """The sort key of a network object under the NETWORK partition."""
    if ref.kind == "consortium":
        return KIND_PREFIX["consortium"]
    if ref.kind in ("member", "provider"):
        return KIND_PREFIX[ref.kind] + ref.code
    return f"{list_prefix(ref.kind, ref.owner)}{ref.code}"


def list_prefix(kind: ObjectKind, owner: Owner) -> str:
    """The sort-key prefix of a list: the objects of a kind that `owner` holds (None: network-wide
    staff; ANY_OWNER: every owner's)."""
    if kind in ("consortium", "member", "provider") or owner is ANY_OWNER:
        return KIND_PREFIX[kind]
    if kind == "staff":
        return f"{KIND_PREFIX[kind]}{owner or '-'}#"
    return f"{KIND_PREFIX[kind]}{owner}#"


def _audit_pks(entry: AuditEntry) -> list[str]:
    """The audit partitions an entry is listed under: its member's (or the network's), its object's."""
    return [_member_audit_pk(entry.member), _object_audit_pk(entry.object_type, entry.object_id)]


def _member_audit_pk(member: str | None) -> str:
    return f"AUDIT#MEMBER#{member or '-'}"


def _object_audit_pk(object_type: str, object_id: str) -> str:
    return f"AUDIT#OBJECT#{object_type}#{object_id}"


def _position(after: str, prefix: str) -> str:
    """The sort key a page starts after. Tokens are signed at the API's edge (netzone.paging);
    this is the store's own guard that a position lies in the list it is asked for."""
    if not after.startswith(prefix):
        raise InvalidPageToken("next belongs to a different list")
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


class DynamoNetworkStore(DynamoTable):
    """The network's objects (one partition) and their audit trail (a partition per scope)."""

    def get(self, ref: Ref) -> dict | None:
        return self._get(object_key(ref))

    def _get(self, key: str) -> dict | None:
        response = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": PARTITION, "sk": key}), ConsistentRead=True
        )
        return _clean(from_item(response["Item"])) if "Item" in response else None

    def get_many(self, refs: list[Ref]) -> dict[Ref, dict]:
        wanted = {object_key(ref): ref for ref in refs}
        items = batch_get(self.client, self.table, [{"pk": PARTITION, "sk": k} for k in wanted])
        return {wanted[i["sk"]]: _ints({k: v for k, v in i.items() if k not in ("pk", "sk")}) for i in items}

    def page(
        self, kind: ObjectKind, owner: Owner, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        return self._query(PARTITION, list_prefix(kind, owner), limit, after, forward=True)

    def member_audit(
        self, member: str | None, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        return self._query(_member_audit_pk(member), "", limit, after, forward=False)

    def object_audit(
        self, object_type: str, object_id: str, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        return self._query(_object_audit_pk(object_type, object_id), "", limit, after, forward=False)

    def _query(
        self, pk: str, prefix: str, limit: int, after: str | None, forward: bool
    ) -> tuple[list[dict], str | None]:
        start = _position(after, prefix) if after else None
        items, last = query_page(self.client, self.table, pk, limit, start, forward, prefix)
        return [_clean(i) for i in items], last

    def write(self, ref: Ref, item: dict, expected_version: int | None, audit: AuditEntry) -> None:
        key = object_key(ref)
        entry = audit.model_dump(mode="json")
        actions = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": PARTITION, "sk": key, **item}),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    **version_condition(expected_version),
                }
            }
        ]
        actions += [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"pk": pk, "sk": audit.id, **entry}),
                }
            }
            for pk in _audit_pks(audit)
        ]
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            current = self._get(key)
            raise VersionConflict(
                f"{key} changed since it was read", None if current is None else int(current["version"])
            ) from error


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
        item = self.store.get(Ref("provider", code))
        found = FeedProvider.model_validate(item, from_attributes=False) if item else None
        self._cache[code] = (self.clock(), found)
        return found

    def priority(self, provider: str) -> int:
        found = self.feed_provider(provider)
        return found.merge_priority if found else DEFAULT_PRIORITY
