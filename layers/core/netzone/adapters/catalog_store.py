"""The catalog table's source records, clusters, match-key items and review tasks in DynamoDB.

    SRC#<provider>#<source id> / SRC                 a provider's source record (in ByFeedProvider)
    CLU#<cluster id>           / CLU                 a cluster and its network record
    KEY#<match key>            / KEY                 the clusters holding a match key
    TASK#<id>                  / TASK                a review task
    TASKS#<status>             / <created>#<id>      the review queue by status
    AUDIT#OBJECT#cluster#<id>  / <timestamp>#<id>    decisions about a cluster (and AUDIT#CATALOG)

Portfolios share the table (`portfolio_store`). A source record's seen mark is stored as
`seen_job` (`dynamodb.SEEN_ATTRIBUTE`), the name the ByFeedProvider index projects.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from botocore.exceptions import ClientError

from netzone import marc
from netzone.adapters.dynamodb import (
    SEEN_ATTRIBUTE,
    UNSEEN,
    DynamoTable,
    batch_get,
    from_item,
    is_condition_failure,
    query_page,
    set_seen_mark,
    to_item,
    version_condition,
)
from netzone.catalog import Cluster, Commit, KeyEntry, ReviewTask, SourceRecord
from netzone.errors import VersionConflict


def _source_pk(provider: str, source_id: str) -> str:
    return f"SRC#{provider}#{source_id}"


def _cluster_pk(cluster_id: str) -> str:
    return f"CLU#{cluster_id}"


def _key_pk(key: str) -> str:
    return f"KEY#{key}"


def _task_pk(task_id: str) -> str:
    return f"TASK#{task_id}"


def _queue_pk(status: str) -> str:
    return f"TASKS#{status}"


def _object_audit_pk(object_type: str, object_id: str) -> str:
    return f"AUDIT#OBJECT#{object_type}#{object_id}"


def _packed_json(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def _unpacked_json(value: bytes | None, default: Any) -> Any:
    return json.loads(zlib.decompress(value)) if value else default


class DynamoCatalogStore(DynamoTable):
    """Source records, clusters, match-key items and review tasks in the catalog table.

    Reads are BatchGetItem on keys; every change is one TransactWriteItems whose items are
    each conditional on the version read (or on not existing yet).
    """

    TRANSACTION_LIMIT = 100

    # -- reads
    def get_sources(self, keys: list[tuple[str, str]]) -> dict[str, SourceRecord]:
        if not keys:
            return {}
        items = batch_get(self.client, self.table, [{"pk": _source_pk(p, s), "sk": "SRC"} for p, s in keys])
        sources = [self._source(i) for i in items]
        return {s.key: s for s in sources}

    def get_clusters(self, cluster_ids: list[str]) -> dict[str, Cluster]:
        if not cluster_ids:
            return {}
        items = batch_get(self.client, self.table, [{"pk": _cluster_pk(c), "sk": "CLU"} for c in cluster_ids])
        return {i["cluster_id"]: self._cluster(i) for i in items}

    def get_cluster(self, cluster_id: str) -> Cluster | None:
        return self.get_clusters([cluster_id]).get(cluster_id)

    def get_keys(self, keys: list[str]) -> dict[str, KeyEntry]:
        if not keys:
            return {}
        items = batch_get(self.client, self.table, [{"pk": _key_pk(k), "sk": "KEY"} for k in keys])
        return {i["key"]: KeyEntry(i["key"], sorted(i.get("clusters", ())), int(i["version"])) for i in items}

    def get_task(self, task_id: str) -> ReviewTask | None:
        response = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": _task_pk(task_id), "sk": "TASK"}), ConsistentRead=True
        )
        return self._task(from_item(response["Item"])) if "Item" in response else None

    def list_tasks(self, status: str, limit: int, after: str | None) -> tuple[list[ReviewTask], str | None]:
        """Review tasks by status, oldest first, paged (a Query on the status's index partition)."""
        index, last = query_page(self.client, self.table, _queue_pk(status), limit, after)
        ids = [i["task_id"] for i in index]
        items = (
            batch_get(self.client, self.table, [{"pk": _task_pk(t), "sk": "TASK"} for t in ids])
            if ids
            else []
        )
        tasks = sorted((self._task(i) for i in items), key=lambda t: (t.created_at or "", t.task_id))
        return tasks, last

    # -- writes
    def commit(self, change: Commit) -> None:
        actions: list[dict[str, Any]] = []
        for source, expected in change.sources:
            actions.append(self._put(self._source_item(source, expected), expected))
        for cluster, expected in change.clusters:
            actions.append(self._put(self._cluster_item(cluster, expected), expected))
        for key_entry, expected in change.keys:
            # A string set: what the list is, and one value on the wire, not one per cluster.
            # (DynamoDB has no empty set: a key no cluster holds has no `clusters`.)
            clusters = set(key_entry.clusters) or None
            key_item = {"pk": _key_pk(key_entry.key), "sk": "KEY", "key": key_entry.key, "clusters": clusters}
            actions.append(self._put(key_item | {"version": (expected or 0) + 1}, expected))
        for task, expected in change.tasks:
            actions.append(self._put(self._task_item(task, expected), expected))
            index = {
                "pk": _queue_pk(task.status),
                "sk": f"{task.created_at}#{task.task_id}",
                "task_id": task.task_id,
            }
            actions.append({"Put": {"TableName": self.table, "Item": to_item(index)}})
            if expected is not None and task.status != "open":
                key = to_item({"pk": _queue_pk("open"), "sk": f"{task.created_at}#{task.task_id}"})
                actions.append({"Delete": {"TableName": self.table, "Key": key}})
        for audit in change.audit:
            for pk in (_object_audit_pk(audit["object_type"], audit["object_id"]), "AUDIT#CATALOG"):
                audit_item = {"pk": pk, "sk": audit["id"], **audit}
                actions.append({"Put": {"TableName": self.table, "Item": to_item(audit_item)}})
        if len(actions) > self.TRANSACTION_LIMIT:
            raise ValueError(f"a catalog change of {len(actions)} items exceeds one transaction")
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if is_condition_failure(error):
                raise VersionConflict("an item changed since it was read") from error
            raise
        written: list[tuple[SourceRecord | Cluster | KeyEntry | ReviewTask, int | None]] = [
            *change.sources,
            *change.clusters,
            *change.keys,
            *change.tasks,
        ]
        for written_item, expected in written:
            written_item.version = (expected or 0) + 1

    def mark_seen(self, source: SourceRecord, mark: str) -> None:
        key = {"pk": _source_pk(source.provider, source.source_id), "sk": "SRC"}
        if set_seen_mark(self.client, self.table, key, mark):  # else a newer file marked it: that mark stays
            source.seen_mark = mark
            source.version += 1

    INDEX_PREFIX = {"source": "SRC#", "portfolio": "PORT#"}

    def unseen(
        self, provider: str, mark: str, after: str | None, limit: int, kind: str = "source"
    ) -> tuple[list[tuple[str, str]], str | None]:
        """One page of the provider's source records (or portfolios) with a seen mark older than
        `mark`, from the sparse index ByFeedProvider (a Query on the provider: it is a listing)."""
        prefix = self.INDEX_PREFIX[kind] + provider + "#"
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "ByFeedProvider",
            "KeyConditionExpression": "feed_provider = :provider AND begins_with(pk, :prefix)",
            "FilterExpression": UNSEEN,
            "ExpressionAttributeValues": to_item(
                {":provider": provider, ":mark": mark, ":hash": "#", ":prefix": prefix}
            ),
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = to_item(json.loads(after))
        response = self.client.query(**request)
        found = [
            (kind, item["pk"].removeprefix(prefix)) for item in map(from_item, response.get("Items", []))
        ]
        last = response.get("LastEvaluatedKey")
        return found, (json.dumps(from_item(last), sort_keys=True) if last else None)

    def cluster_audit(self, cluster_id: str, limit: int, after: str | None) -> tuple[list[dict], str | None]:
        """Decisions about a cluster, newest first, paged."""
        pk = _object_audit_pk("cluster", cluster_id)
        items, last = query_page(self.client, self.table, pk, limit, after, forward=False)
        return [{k: v for k, v in i.items() if k not in ("pk", "sk")} for i in items], last

    def _put(self, item: dict[str, Any], expected: int | None) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": to_item(item), **version_condition(expected)}}

    # -- mapping
    @staticmethod
    def _source_item(source: SourceRecord, expected: int | None) -> dict[str, Any]:
        return {
            "pk": _source_pk(source.provider, source.source_id),
            "sk": "SRC",
            "type": "source",
            "provider": source.provider,
            "source_id": source.source_id,
            "cluster_id": source.cluster_id,
            "content_hash": source.content_hash,
            "marc": marc.pack(source.record),
            "identifiers": source.identifiers or None,
            "title": source.title,
            "profile": _packed_json(source.profile),
            "keys": source.keys or None,
            "apart": source.apart or None,
            "withdrawn": source.withdrawn,
            "version": (expected or 0) + 1,
            "last_job": source.last_job,
            "last_position": source.last_position,
            "last_outcome": source.last_outcome,
            "updated_at": source.updated_at,
            SEEN_ATTRIBUTE: source.seen_mark,
            "brief": source.brief or None,
            # The sparse index ByFeedProvider: what the provider's MARC files sent (a brief
            # record goes with its portfolios, which are indexed themselves).
            "feed_provider": None if source.brief else source.provider,
        }

    @staticmethod
    def _cluster_item(cluster: Cluster, expected: int | None) -> dict[str, Any]:
        return {
            "pk": _cluster_pk(cluster.cluster_id),
            "sk": "CLU",
            "type": "cluster",
            "cluster_id": cluster.cluster_id,
            "marc": marc.pack(cluster.record) if cluster.record is not None else None,
            "sources": cluster.sources or None,
            "title": cluster.title,
            "status": cluster.status,
            "keys": cluster.keys or None,
            "profiles": _packed_json(cluster.profiles),
            "provenance": _packed_json(cluster.provenance),
            "merged_into": cluster.merged_into,
            "version": (expected or 0) + 1,
            "datestamp": cluster.datestamp,
        }

    @staticmethod
    def _task_item(task: ReviewTask, expected: int | None) -> dict[str, Any]:
        return {
            "pk": _task_pk(task.task_id),
            "sk": "TASK",
            "type": "review",
            "task_id": task.task_id,
            "source": task.source,
            "cluster_id": task.cluster_id,
            "candidates": _packed_json(task.candidates),
            "status": task.status,
            "created_at": task.created_at,
            "decided_at": task.decided_at,
            "decided_by": task.decided_by,
            "decision": _packed_json(task.decision) if task.decision else None,
            "version": (expected or 0) + 1,
        }

    @staticmethod
    def _source(item: dict[str, Any]) -> SourceRecord:
        return SourceRecord(
            provider=item["provider"],
            source_id=item["source_id"],
            cluster_id=item["cluster_id"],
            content_hash=item["content_hash"],
            record=marc.unpack(item["marc"]),
            identifiers=item.get("identifiers") or {},
            title=item.get("title", ""),
            profile=_unpacked_json(item.get("profile"), {}),
            keys=list(item.get("keys", [])),
            apart=list(item.get("apart", [])),
            version=int(item["version"]),
            withdrawn=bool(item.get("withdrawn", False)),
            last_job=item.get("last_job"),
            last_position=int(item["last_position"]) if item.get("last_position") is not None else None,
            last_outcome=item.get("last_outcome"),
            updated_at=item.get("updated_at"),
            seen_mark=item.get(SEEN_ATTRIBUTE),
            brief=bool(item.get("brief", False)),
        )

    @staticmethod
    def _cluster(item: dict[str, Any]) -> Cluster:
        return Cluster(
            cluster_id=item["cluster_id"],
            record=marc.unpack(item["marc"]) if item.get("marc") else None,
            sources=list(item.get("sources", [])),
            title=item.get("title", ""),
            status=item.get("status", "active"),
            version=int(item["version"]),
            datestamp=item.get("datestamp"),
            keys=list(item.get("keys", [])),
            profiles=_unpacked_json(item.get("profiles"), {}),
            provenance=_unpacked_json(item.get("provenance"), []),
            merged_into=item.get("merged_into"),
        )

    @staticmethod
    def _task(item: dict[str, Any]) -> ReviewTask:
        return ReviewTask(
            task_id=item["task_id"],
            source=item["source"],
            cluster_id=item["cluster_id"],
            candidates=_unpacked_json(item.get("candidates"), []),
            status=item["status"],
            created_at=item.get("created_at"),
            decided_at=item.get("decided_at"),
            decided_by=item.get("decided_by"),
            decision=_unpacked_json(item.get("decision"), None),
            version=int(item["version"]),
        )
