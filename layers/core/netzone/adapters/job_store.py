"""The jobs table: feed jobs, their counters and what each record of a feed came to, in DynamoDB.

JOB#<job id> / JOB                 a feed job and its counters
JOB#<job id> / REJECT#<position>   one rejected record (and its bytes)
JOB#<job id> / WARN#<position>     a record read with warnings
JOB#<job id> / BATCH#<seq>         a batch already counted
JOB#<job id> / ABSENT#<page>       a withdrawal page already counted
JOB#<job id> / FAILURE#<subject>   why record_match failed on a batch or step
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from netzone.adapters.dynamodb import (
    DynamoTable,
    batch_put,
    conditional_write,
    from_item,
    is_condition_failure,
    query_all,
    to_item,
)
from netzone.clock import now
from netzone.jobs import OUTCOMES, FeedJob, FeedRef, FiledRecord, FileRead, RecordWarning, Reject


class DynamoJobStore(DynamoTable):
    """The feed jobs ledger: creation, rejects, idempotent per-batch counting, completion."""

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
            if not is_condition_failure(error):
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

    def finish_reading(self, job_id: str, read: FileRead) -> None:
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
                    ":read": read.records_read,
                    ":warned": read.warned,
                    ":rejected": read.rejected,
                    ":accepted": read.accepted,
                    ":format": read.format,
                    ":mode": read.feed_mode,
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

    def record_outcomes(
        self,
        job_id: str,
        seq: int,
        counts: dict[str, int],
        rejects: list[Reject],
        filed: Sequence[FiledRecord] = (),
    ) -> bool:
        """Count one batch's outcomes exactly once, keeping what became of each record on the
        batch's marker; False when this batch was counted before."""
        if rejects:
            self.add_rejects(job_id, rejects)
        adds = {f"c_{name}": int(n) for name, n in counts.items() if n and name in OUTCOMES}
        adds["matched"] = sum(counts.values())
        marker: dict[str, Any] = {"sk": f"BATCH#{seq:08d}", "counted_at": now()}
        if filed:  # ~60 bytes a record, 50 records a batch: far below an item's 400 KB
            marker["filed"] = json.dumps([record.packed() for record in filed], separators=(",", ":"))
        return self._add_once(job_id, marker, adds)

    def all_filed(self, job_id: str) -> Iterator[FiledRecord]:
        """What became of each accepted record of a job, batch by batch in feed order."""
        request = self._under(job_id, "BATCH#") | {"ProjectionExpression": "filed"}
        for item in query_all(self.client, request):
            if "filed" in item:
                yield from (FiledRecord.unpacked(row) for row in json.loads(item["filed"]["S"]))

    def _add_once(self, job_id: str, marker: dict[str, Any], adds: dict[str, int]) -> bool:
        """Add to the job's counters and put `marker` under the job in one transaction, unless
        the marker is there already (that step was counted): False then."""
        marker_item = {"pk": f"JOB#{job_id}", **marker}
        put = {
            "TableName": self.table,
            "Item": to_item(marker_item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        update = {
            "TableName": self.table,
            "Key": self._key(job_id),
            "UpdateExpression": "ADD " + ", ".join(f"#{k} :{k}" for k in adds),
            "ExpressionAttributeNames": {f"#{k}": k for k in adds},
            "ExpressionAttributeValues": to_item({f":{k}": v for k, v in adds.items()}),
        }
        return conditional_write(
            lambda: self.client.transact_write_items(TransactItems=[{"Put": put}, {"Update": update}])
        )

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
        return conditional_write(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=self._key(job_id),
                UpdateExpression=f"SET {assignments}",
                ConditionExpression="#status = :from",
                ExpressionAttributeNames={"#status": "status", **{f"#{k}": k for k in values}},
                ExpressionAttributeValues=to_item(
                    {":to": to_status, ":from": from_status, **{f":{k}": v for k, v in values.items()}}
                ),
            )
        )

    def count_withdrawn_absent(self, job_id: str, page: int, withdrawn: int) -> bool:
        """Add one withdraw_absent page's count exactly once (a marker per page, like batches)."""
        return self._add_once(
            job_id, {"sk": f"ABSENT#{page:08d}", "n": withdrawn}, {"withdrawn_absent": withdrawn}
        )

    def mark_reported(self, job_id: str, report_key: str, rejects_key: str | None) -> bool:
        values = {":report": report_key} | ({":rejects": rejects_key} if rejects_key else {})
        return conditional_write(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=self._key(job_id),
                UpdateExpression="SET report_key = :report"
                + (", rejects_key = :rejects" if rejects_key else ""),
                ConditionExpression="attribute_not_exists(report_key)",
                ExpressionAttributeValues=to_item(values),
            )
        )

    def _under(self, job_id: str, prefix: str) -> dict[str, Any]:
        """The Query for one kind of item under a job (sort keys starting with `prefix`)."""
        return {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": f"JOB#{job_id}", ":prefix": prefix}),
        }

    def _all(self, job_id: str, prefix: str, model) -> Iterator[Any]:
        """Every item of one kind under a job, in feed order, page by page."""
        for item in query_all(self.client, self._under(job_id, prefix)):
            yield model(**{k: v for k, v in from_item(item).items() if k not in ("pk", "sk")})

    def all_rejects(self, job_id: str) -> Iterator[Reject]:
        return self._all(job_id, "REJECT#", Reject)

    def rejected_source_ids(self, job_id: str) -> set[str]:
        """The source ids of a job's rejects (just that attribute, not the rejected bytes)."""
        request = self._under(job_id, "REJECT#") | {"ProjectionExpression": "source_id"}
        return {i["source_id"]["S"] for i in query_all(self.client, request) if "source_id" in i}

    def all_warnings(self, job_id: str) -> Iterator[RecordWarning]:
        return self._all(job_id, "WARN#", RecordWarning)

    def _page(self, job_id: str, prefix: str, limit: int, model):
        """The first `limit` items of one kind under a job (rejects or warnings), in feed order."""
        page = self.client.query(**self._under(job_id, prefix), Limit=limit)
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
