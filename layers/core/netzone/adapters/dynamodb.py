"""DynamoDB adapters: the catalog table (source records, clusters) and the jobs table.

Keys (single-table design inside each table):

    catalog  SRC#<provider>#<source id> / SRC     a provider's source record (in ByFeedProvider)
             CLU#<cluster id>           / CLU     a cluster and its network record
             KEY#<match key>            / KEY     the clusters holding a match key
             TASK#<id> / TASK, TASKS#<status> / <created>#<id>   review tasks and their index
    jobs     JOB#<job id>               / JOB     a feed job and its counters
             JOB#<job id>               / REJECT#<position>   one rejected record (and its bytes)
             JOB#<job id>               / WARN#<position>     a record read with warnings
             JOB#<job id>               / BATCH#<seq>         a batch already counted
             JOB#<job id>               / ABSENT#<page>       a withdrawal page already counted
             JOB#<job id>               / FAILURE#<subject>   why record_match failed on a batch or step

Clients are created lazily (never at import time) and honour AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from netzone import marc
from netzone.adapters import AwsAdapter
from netzone.catalog import Cluster, Commit, KeyEntry, ReviewTask, SourceRecord, VersionConflict
from netzone.feeds import OUTCOMES, FeedJob, FeedRef, RecordWarning, Reject, now

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    data = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: (v.value if isinstance(v, Binary) else v) for k, v in data.items()}


# A seen mark only moves forward (feeds.seen_mark, newer_mark): the item carries no mark, a
# bare job id from before marks, or an older mark.
UNSEEN = "attribute_not_exists(seen_job) OR NOT contains(seen_job, :hash) OR seen_job < :mark"
SEEN_BEFORE = f"attribute_exists(pk) AND ({UNSEEN})"


def _is_condition_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        return any(
            (r or {}).get("Code") == "ConditionalCheckFailed" for r in reasons
        ) or "ConditionalCheckFailed" in str(error)
    return False


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


def batch_get(client, table: str, keys: list[dict[str, Any]], attempts: int = 8) -> list[dict[str, Any]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with backoff."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request = {table: {"Keys": [to_item(k) for k in keys[start : start + 100]]}}
        for attempt in range(attempts):
            response = client.batch_get_item(RequestItems=request)
            found.extend(from_item(i) for i in response.get("Responses", {}).get(table, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(2.0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"BatchGetItem on {table} left keys unprocessed after {attempts} attempts")
    return found


def batch_put(client, table: str, items: Iterable[dict[str, Any]], attempts: int = 8) -> None:
    """BatchWriteItem puts in chunks of 25, retrying unprocessed items with backoff."""
    pending = [{"PutRequest": {"Item": to_item(i)}} for i in items]
    for start in range(0, len(pending), 25):
        request = {table: pending[start : start + 25]}
        for attempt in range(attempts):
            response = client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            if not request:
                break
            time.sleep(min(2.0, 0.05 * 2**attempt))
        else:
            raise RuntimeError(f"BatchWriteItem on {table} left items unprocessed after {attempts} attempts")


# ---------------------------------------------------------------- catalog


def _source_pk(provider: str, source_id: str) -> str:
    return f"SRC#{provider}#{source_id}"


def _cluster_pk(cluster_id: str) -> str:
    return f"CLU#{cluster_id}"


def _key_pk(key: str) -> str:
    return f"KEY#{key}"


def _task_pk(task_id: str) -> str:
    return f"TASK#{task_id}"


def _packed_json(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def _unpacked_json(value: bytes | None, default: Any) -> Any:
    return json.loads(zlib.decompress(value)) if value else default


class DynamoCatalogStore(AwsAdapter):
    """Source records, clusters, match-key items and review tasks in the catalog table.

    Reads are BatchGetItem on keys; every change is one TransactWriteItems whose items are
    each conditional on the version read (or on not existing yet).
    """

    service = "dynamodb"
    TRANSACTION_LIMIT = 100

    def __init__(self, table_name: str, client=None):
        super().__init__(client)
        self.table = table_name

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
        index, last = query_page(self.client, self.table, f"TASKS#{status}", limit, after)
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
        for entry, expected in change.keys:
            # A string set: what the list is, and one value on the wire, not one per cluster.
            # (DynamoDB has no empty set: a key no cluster holds has no `clusters`.)
            clusters = set(entry.clusters) or None
            item = {"pk": _key_pk(entry.key), "sk": "KEY", "key": entry.key, "clusters": clusters}
            actions.append(self._put(item | {"version": (expected or 0) + 1}, expected))
        for task, expected in change.tasks:
            actions.append(self._put(self._task_item(task, expected), expected))
            index = {
                "pk": f"TASKS#{task.status}",
                "sk": f"{task.created_at}#{task.task_id}",
                "task_id": task.task_id,
            }
            actions.append({"Put": {"TableName": self.table, "Item": to_item(index)}})
            if expected is not None and task.status != "open":
                key = to_item({"pk": "TASKS#open", "sk": f"{task.created_at}#{task.task_id}"})
                actions.append({"Delete": {"TableName": self.table, "Key": key}})
        for entry in change.audit:
            for scope in (f"OBJECT#{entry['object_type']}#{entry['object_id']}", "CATALOG"):
                item = {"pk": f"AUDIT#{scope}", "sk": entry["id"], **entry}
                actions.append({"Put": {"TableName": self.table, "Item": to_item(item)}})
        if len(actions) > self.TRANSACTION_LIMIT:
            raise ValueError(f"a catalog change of {len(actions)} items exceeds one transaction")
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if _is_condition_failure(error):
                raise VersionConflict("an item changed since it was read") from error
            raise
        for item, expected in [*change.sources, *change.clusters, *change.keys, *change.tasks]:
            item.version = (expected or 0) + 1

    def mark_seen(self, source: SourceRecord, mark: str) -> None:
        # The version moves too: a full-replacement withdrawal that read the record before it
        # was seen (the index lags) fails its version check, re-reads and keeps it.
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"pk": _source_pk(source.provider, source.source_id), "sk": "SRC"}),
                UpdateExpression="SET seen_job = :mark, version = version + :one",
                ConditionExpression=SEEN_BEFORE,
                ExpressionAttributeValues=to_item({":mark": mark, ":hash": "#", ":one": 1}),
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return  # a newer file marked it meanwhile: its mark stays
            raise
        source.seen_job = mark
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

    def audit_page(self, scope: str, limit: int, after: str | None) -> tuple[list[dict], str | None]:
        items, last = query_page(self.client, self.table, f"AUDIT#{scope}", limit, after, forward=False)
        return [{k: v for k, v in i.items() if k not in ("pk", "sk")} for i in items], last

    def _put(self, item: dict[str, Any], expected: int | None) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": to_item(item), **_version_condition(expected)}}

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
            "seen_job": source.seen_job,
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
            seen_job=item.get("seen_job"),
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


def _version_condition(expected: int | None) -> dict[str, Any]:
    if expected is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": {"N": str(expected)}},
    }


# ---------------------------------------------------------------- jobs


class DynamoJobStore(AwsAdapter):
    """The feed jobs ledger: creation, rejects, idempotent per-batch counting, completion."""

    service = "dynamodb"

    def __init__(self, table_name: str, client=None):
        super().__init__(client)
        self.table = table_name

    def _key(self, job_id: str, sk: str = "JOB") -> dict[str, Any]:
        return to_item({"pk": f"JOB#{job_id}", "sk": sk})

    def start(self, job: FeedJob) -> str | None:
        item = {
            "pk": f"JOB#{job.job_id}",
            "sk": "JOB",
            "job_id": job.job_id,
            "provider": job.provider,
            "feed": job.feed.model_dump(exclude_none=True),
            "status": job.status,
            "started_at": job.started_at,
        }
        try:
            self.client.put_item(
                TableName=self.table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            # A retried drop: the caller decides by the job's status whether to read again.
            existing = self.client.get_item(
                TableName=self.table, Key=self._key(job.job_id), ConsistentRead=True
            )
            return from_item(existing.get("Item", {})).get("status", "reading")
        return None

    # A rejected record's bytes are kept for the rejects file when they fit an item comfortably.
    MAX_RAW_BYTES = 300_000

    def add_rejects(self, job_id: str, rejects: list[Reject]) -> None:
        batch_put(
            self.client,
            self.table,
            (
                {
                    "pk": f"JOB#{job_id}",
                    "sk": f"REJECT#{r.position:010d}",
                    **r.model_dump(exclude_none=True),
                    "raw": r.raw if r.raw is not None and len(r.raw) <= self.MAX_RAW_BYTES else None,
                }
                for r in rejects
            ),
        )

    def add_warnings(self, job_id: str, warnings: list[RecordWarning]) -> None:
        batch_put(
            self.client,
            self.table,
            (
                {"pk": f"JOB#{job_id}", "sk": f"WARN#{w.position:010d}", **w.model_dump(exclude_none=True)}
                for w in warnings
            ),
        )

    def finish_reading(
        self,
        job_id: str,
        records_read: int,
        rejected: int,
        fmt: str,
        warned: int = 0,
        feed_mode: str = "incremental",
    ) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._key(job_id),
            UpdateExpression=(
                "SET records_read = :read, ingest_rejected = :rejected, accepted = :accepted, #format = :format, "
                "records_with_warnings = :warned, feed_mode = :mode, "
                "read_at = :now, matched = if_not_exists(matched, :zero), #status = :matching"
            ),
            ConditionExpression="#status = :reading OR #status = :matching",
            ExpressionAttributeNames={"#status": "status", "#format": "format"},
            ExpressionAttributeValues=to_item(
                {
                    ":read": records_read,
                    ":warned": warned,
                    ":rejected": rejected,
                    ":accepted": records_read - rejected,
                    ":format": fmt,
                    ":mode": feed_mode,
                    ":now": now(),
                    ":zero": 0,
                    ":reading": "reading",
                    ":matching": "matching",
                }
            ),
        )

    def fail(self, job_id: str, reason: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._key(job_id),
            UpdateExpression="SET #status = :failed, #error = :reason, completed_at = :now",
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues=to_item({":failed": "failed", ":reason": reason, ":now": now()}),
        )

    def record_outcomes(self, job_id: str, seq: int, counts: dict[str, int], rejects: list[Reject]) -> bool:
        """Count one batch's outcomes exactly once; False when this batch was counted before."""
        if rejects:
            self.add_rejects(job_id, rejects)
        adds = {f"c_{name}": int(n) for name, n in counts.items() if n and name in OUTCOMES}
        adds["matched"] = sum(counts.values())
        names = {f"#{k}": k for k in adds}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(
                                {"pk": f"JOB#{job_id}", "sk": f"BATCH#{seq:08d}", "counted_at": now()}
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(job_id),
                            "UpdateExpression": "ADD " + ", ".join(f"#{k} :{k}" for k in adds),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": to_item({f":{k}": v for k, v in adds.items()}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def batch_counted(self, job_id: str, seq: int) -> bool:
        """Whether a batch's outcomes were counted (its BATCH#<seq> marker is there)."""
        response = self.client.get_item(
            TableName=self.table,
            Key=self._key(job_id, f"BATCH#{seq:08d}"),
            ConsistentRead=True,
            ProjectionExpression="pk",
        )
        return "Item" in response

    def note_failure(self, job_id: str, subject: str, reason: str) -> int:
        """Keep why record_match failed on a batch or step (the latest reason) and how often;
        returns the number of failures so far."""
        response = self.client.update_item(
            TableName=self.table,
            Key=self._key(job_id, f"FAILURE#{subject}"),
            UpdateExpression="SET reason = :reason, failed_at = :now ADD attempts :one",
            ExpressionAttributeValues=to_item({":reason": reason, ":now": now(), ":one": 1}),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_item(response["Attributes"])["attempts"])

    def failure(self, job_id: str, subject: str) -> tuple[int, str] | None:
        """(failures, the latest reason) noted for a batch or step, or None."""
        response = self.client.get_item(
            TableName=self.table, Key=self._key(job_id, f"FAILURE#{subject}"), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        return int(item.get("attempts", 0)), str(item.get("reason", ""))

    def advance(self, job_id: str, from_status: str, to_status: str, **fields: object) -> bool:
        """Move a job from one status to the next (and set `fields`); False if it was not there."""
        values = {k: v for k, v in fields.items() if v is not None}
        assignments = ", ".join(["#status = :to", *(f"#{k} = :{k}" for k in values)])
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(job_id),
                UpdateExpression=f"SET {assignments}",
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={"#status": "status", **{f"#{k}": k for k in values}},
                ExpressionAttributeValues=to_item(
                    {":to": to_status, ":from": from_status, **{f":{k}": v for k, v in values.items()}}
                ),
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def count_withdrawn_absent(self, job_id: str, page: int, withdrawn: int) -> bool:
        """Add one withdraw_absent page's count exactly once (a marker per page, like batches)."""
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(
                                {"pk": f"JOB#{job_id}", "sk": f"ABSENT#{page:08d}", "n": withdrawn}
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(job_id),
                            "UpdateExpression": "ADD withdrawn_absent :n",
                            "ExpressionAttributeValues": to_item({":n": withdrawn}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def mark_reported(self, job_id: str, report_key: str, rejects_key: str | None) -> bool:
        values = {":report": report_key} | ({":rejects": rejects_key} if rejects_key else {})
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(job_id),
                UpdateExpression="SET report_key = :report"
                + (", rejects_key = :rejects" if rejects_key else ""),
                ConditionExpression="attribute_not_exists(report_key)",
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def _all(self, job_id: str, prefix: str, model) -> Iterator[Any]:
        """Every item of one kind under a job, in feed order, page by page."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": f"JOB#{job_id}", ":prefix": prefix}),
        }
        while True:
            page = self.client.query(**request)
            for item in page.get("Items", []):
                yield model(**{k: v for k, v in from_item(item).items() if k not in ("pk", "sk")})
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def all_rejects(self, job_id: str) -> Iterator[Reject]:
        return self._all(job_id, "REJECT#", Reject)

    def rejected_source_ids(self, job_id: str) -> set[str]:
        """The source ids of a job's rejects (just that attribute, not the rejected bytes)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": f"JOB#{job_id}", ":prefix": "REJECT#"}),
            "ProjectionExpression": "source_id",
        }
        found: set[str] = set()
        while True:
            page = self.client.query(**request)
            found.update(i["source_id"]["S"] for i in page.get("Items", []) if "source_id" in i)
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def all_warnings(self, job_id: str) -> Iterator[RecordWarning]:
        return self._all(job_id, "WARN#", RecordWarning)

    def _page(self, job_id: str, prefix: str, limit: int, model):
        """The first `limit` items of one kind under a job (rejects or warnings), in feed order."""
        page = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"JOB#{job_id}", ":prefix": prefix}),
            Limit=limit,
        )
        items = [
            model(**{k: v for k, v in from_item(i).items() if k not in ("pk", "sk")})
            for i in page.get("Items", [])
        ]
        return items, "LastEvaluatedKey" in page

    def get(self, job_id: str, max_rejects: int = 100) -> FeedJob | None:
        response = self.client.get_item(TableName=self.table, Key=self._key(job_id), ConsistentRead=True)
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        rejects, more_rejects = (
            self._page(job_id, "REJECT#", max_rejects, Reject) if max_rejects else ([], False)
        )
        warnings, _ = (
            self._page(job_id, "WARN#", 20, RecordWarning)
            if item.get("records_with_warnings") and max_rejects
            else ([], False)
        )
        counts = {name: int(item.get(f"c_{name}", 0)) for name in OUTCOMES}
        counts["rejected"] += int(item.get("ingest_rejected", 0))
        return FeedJob(
            job_id=item["job_id"],
            provider=item["provider"],
            feed=FeedRef(**item["feed"]),
            format=item.get("format"),
            status=item["status"],
            records_read=int(item["records_read"]) if "records_read" in item else None,
            accepted=int(item["accepted"]) if "accepted" in item else None,
            matched=int(item.get("matched", 0)),
            feed_mode=item.get("feed_mode"),
            withdrawn_absent=int(item.get("withdrawn_absent", 0)),
            report_key=item.get("report_key"),
            rejects_key=item.get("rejects_key"),
            counts=counts,
            rejects=rejects,
            rejects_truncated=more_rejects,
            records_with_warnings=int(item.get("records_with_warnings", 0)),
            warnings=warnings,
            error=item.get("error"),
            started_at=item["started_at"],
            read_at=item.get("read_at"),
            completed_at=item.get("completed_at"),
        )
