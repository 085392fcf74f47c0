"""DynamoDB adapters: the catalog table (source records, clusters) and the jobs table.

Keys (single-table design inside each table):

    catalog  SRC#<provider>#<source id> / SRC     a provider's source record
             CLU#<cluster id>           / CLU     a cluster and its network record
    jobs     JOB#<job id>               / JOB     a feed job and its counters
             JOB#<job id>               / REJECT#<position>   one rejected record
             JOB#<job id>               / BATCH#<seq>         a batch already counted

Clients are created lazily (never at import time) and honour AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from netzone import marc
from netzone.adapters import AwsAdapter
from netzone.catalog import Cluster, SourceRecord, VersionConflict
from netzone.feeds import OUTCOMES, FeedJob, FeedRef, Reject, now

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    data = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: (v.value if isinstance(v, Binary) else v) for k, v in data.items()}


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


class DynamoCatalogStore(AwsAdapter):
    service = "dynamodb"

    def __init__(self, table_name: str, client=None):
        super().__init__(client)
        self.table = table_name

    # -- reads
    def get_sources(self, keys: list[tuple[str, str]]) -> dict[str, SourceRecord]:
        if not keys:
            return {}
        items = batch_get(self.client, self.table, [{"pk": _source_pk(p, s), "sk": "SRC"} for p, s in keys])
        sources = [self._source(i) for i in items]
        return {f"{s.provider}|{s.source_id}": s for s in sources}

    def get_cluster(self, cluster_id: str) -> Cluster | None:
        response = self.client.get_item(
            TableName=self.table, Key=to_item({"pk": _cluster_pk(cluster_id), "sk": "CLU"})
        )
        item = response.get("Item")
        return self._cluster(from_item(item)) if item else None

    # -- writes
    def save(self, source: SourceRecord, cluster: Cluster, *, new_source: bool, new_cluster: bool) -> None:
        source_item = {
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
            "withdrawn": source.withdrawn,
            "version": source.version + 1,
            "last_job": source.last_job,
            "last_position": source.last_position,
            "last_outcome": source.last_outcome,
            "updated_at": source.updated_at,
        }
        cluster_item = {
            "pk": _cluster_pk(cluster.cluster_id),
            "sk": "CLU",
            "type": "cluster",
            "cluster_id": cluster.cluster_id,
            "marc": marc.pack(cluster.record),
            "sources": cluster.sources,
            "title": cluster.title,
            "status": cluster.status,
            "version": cluster.version + 1,
            "datestamp": cluster.datestamp,
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(source_item),
                            **_version_condition(new_source, source.version),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": to_item(cluster_item),
                            **_version_condition(new_cluster, cluster.version),
                        }
                    },
                ]
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise VersionConflict(
                    f"{source.provider}|{source.source_id} or cluster {cluster.cluster_id} changed"
                ) from error
            raise
        source.version += 1
        cluster.version += 1

    # -- mapping
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
            version=int(item["version"]),
            withdrawn=bool(item.get("withdrawn", False)),
            last_job=item.get("last_job"),
            last_position=int(item["last_position"]) if item.get("last_position") is not None else None,
            last_outcome=item.get("last_outcome"),
            updated_at=item.get("updated_at"),
        )

    @staticmethod
    def _cluster(item: dict[str, Any]) -> Cluster:
        return Cluster(
            cluster_id=item["cluster_id"],
            record=marc.unpack(item["marc"]),
            sources=list(item.get("sources", [])),
            title=item.get("title", ""),
            status=item.get("status", "active"),
            version=int(item["version"]),
            datestamp=item.get("datestamp"),
        )


def _version_condition(new: bool, version: int) -> dict[str, Any]:
    if new:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": {"N": str(version)}},
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

    def start(self, job: FeedJob) -> None:
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
            # A retried drop: its batches and rejects are rewritten under the same keys and
            # counted once, so the job simply carries on.

    def add_rejects(self, job_id: str, rejects: list[Reject]) -> None:
        batch_put(
            self.client,
            self.table,
            (
                {"pk": f"JOB#{job_id}", "sk": f"REJECT#{r.position:010d}", **r.model_dump(exclude_none=True)}
                for r in rejects
            ),
        )

    def finish_reading(self, job_id: str, records_read: int, rejected: int, fmt: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=self._key(job_id),
            UpdateExpression=(
                "SET records_read = :read, ingest_rejected = :rejected, accepted = :accepted, #format = :format, "
                "read_at = :now, matched = if_not_exists(matched, :zero), #status = :matching"
            ),
            ConditionExpression="#status = :reading OR #status = :matching",
            ExpressionAttributeNames={"#status": "status", "#format": "format"},
            ExpressionAttributeValues=to_item(
                {
                    ":read": records_read,
                    ":rejected": rejected,
                    ":accepted": records_read - rejected,
                    ":format": fmt,
                    ":now": now(),
                    ":zero": 0,
                    ":reading": "reading",
                    ":matching": "matching",
                }
            ),
        )
        self.try_complete(job_id)

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
        self.try_complete(job_id)
        return True

    def try_complete(self, job_id: str) -> bool:
        """Mark the job completed once reading is done and every accepted record has an outcome."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(job_id),
                UpdateExpression="SET #status = :completed, completed_at = :now",
                ConditionExpression="attribute_exists(accepted) AND matched = accepted AND #status = :matching",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {":completed": "completed", ":matching": "matching", ":now": now()}
                ),
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get(self, job_id: str, max_rejects: int = 100) -> FeedJob | None:
        response = self.client.get_item(TableName=self.table, Key=self._key(job_id), ConsistentRead=True)
        if "Item" not in response:
            return None
        item = from_item(response["Item"])
        page = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": f"JOB#{job_id}", ":prefix": "REJECT#"}),
            Limit=max_rejects,
        )
        rejects = [
            Reject(**{k: v for k, v in from_item(i).items() if k not in ("pk", "sk")})
            for i in page.get("Items", [])
        ]
        counts = {name: int(item.get(f"c_{name}", 0)) for name in OUTCOMES}
        counts["rejected"] += int(item.get("ingest_rejected", 0))
        return FeedJob(
            job_id=item["job_id"],
            provider=item["provider"],
            feed=FeedRef(**item["feed"]),
            format=item.get("format"),
            status=item["status"],
            records_read=int(item["records_read"]) if "records_read" in item else None,
            counts=counts,
            rejects=rejects,
            rejects_truncated="LastEvaluatedKey" in page,
            error=item.get("error"),
            started_at=item["started_at"],
            read_at=item.get("read_at"),
            completed_at=item.get("completed_at"),
        )
