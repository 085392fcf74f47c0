"""A feed replayed after killing a worker mid-batch ends with the same catalog and counters as an
undisturbed run.

One feed with overlaps (another provider's copies of the same books inside the same file, some
of them later editions that keep the identifiers) runs undisturbed in one stack; in a fresh stack
the same feed runs while a sandbox is SIGKILLed in the middle of its work:

- record_match, after it has filed records of a batch it has not counted yet: the SQS messages
  of the killed invocation come back after the (local) visibility timeout and are redelivered;
- feed_ingest, after it has sent some record batches and before it has finished reading: S3's
  asynchronous invocation is retried, as Lambda retries it.

Cluster ids are random, so catalogs are compared by what they mean: the partition of source
records into clusters, the network record of each cluster (without 001, the cluster id, and 005),
the review tasks by the record that raised them, and the job's counters.

The kill waits until feed_ingest has finished and no message is left waiting, so the killed
invocation is the last one and its redelivery is filed in the order of the undisturbed run (a
later record can decide where an earlier one goes, so the order matters).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Stack, running_stack, wait_for
from test_local_stack import finished_job

from demo import feeds
from netzone import marc
from netzone.adapters.dynamodb import from_item

pytestmark = pytest.mark.integration

PROVIDER = "crashpress"


def write_feed(path: Path) -> int:
    base = list(feeds.synthetic_records(180, PROVIDER, seed=5))
    # overlapping_records shares (and renumbers) the originals' fields: copy fresh originals.
    originals = list(feeds.synthetic_records(100, PROVIDER, seed=5))
    copies = list(feeds.overlapping_records(originals, "crashcopy", conflicts=6))
    return feeds.write_iso2709(path, base + copies)  # 280 records: 6 batches of up to 50


def scan(stack: Stack, prefix: str, **extra) -> list[dict]:
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=stack.state["outputs"]["CatalogTableName"],
            FilterExpression="begins_with(pk, :p)" + extra.pop("and_", ""),
            ExpressionAttributeValues={":p": {"S": prefix}, **extra.pop("values", {})},
        )
    )
    return [from_item(item) for page in pages for item in page["Items"]]


def network_record(packed: bytes) -> str:
    record = marc.unpack(packed)
    fields = [field for field in record.as_dict()["fields"] if not {"001", "005"} & set(field)]
    return json.dumps({"leader": record.as_dict()["leader"], "fields": fields}, sort_keys=True)


def snapshot(stack: Stack, job_id: str) -> dict:
    job = finished_job(stack, job_id, timeout=60)
    clusters = [c for c in scan(stack, "CLU#") if c.get("sk") == "CLU" and c.get("status") == "active"]
    sources = [s for s in scan(stack, "SRC#") if s.get("sk") == "SRC"]
    tasks = [t for t in scan(stack, "TASK#") if t.get("sk") == "TASK"]
    by_cluster = {c["cluster_id"]: frozenset(c["sources"]) for c in clusters}
    return {
        "job": {
            key: job[key] for key in ("status", "records_read", "counts", "rejects", "records_with_warnings")
        },
        "clusters": len(clusters),
        "partition": frozenset(by_cluster.values()),
        "network_records": {frozenset(c["sources"]): network_record(c["marc"]) for c in clusters},
        "sources": {
            f"{s['provider']}|{s['source_id']}": (by_cluster.get(s["cluster_id"]), s["last_outcome"])
            for s in sources
        },
        "review_tasks": sorted((t["source"], t["status"]) for t in tasks),
    }


def job_item(stack: Stack, job_id: str) -> dict | None:
    response = stack.client("dynamodb").get_item(
        TableName=stack.name("JobsTable"),
        Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
        ConsistentRead=True,
    )
    return from_item(response["Item"]) if "Item" in response else None


def in_invocation(log: Path) -> bool:
    """The sandbox has started an invocation (Lambda's START line) and not ended it."""
    text = log.read_text(errors="replace")
    start = text.rfind("START RequestId: ")
    if start < 0:
        return False
    request_id = text[start:].split()[2]
    return f"END RequestId: {request_id}" not in text[start:]


def queue_counts(stack: Stack) -> tuple[int, int]:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.state["resources"]["MatchQueue"]["url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def kill_when(stack: Stack, function: str, ready, timeout: float = 40) -> dict:
    """SIGKILL the function's sandbox at the first moment `ready()` holds while it is frozen.

    The sandbox is stopped (SIGSTOP) before `ready` looks, so what it sees cannot change before
    the kill; when it does not hold, the sandbox continues (SIGCONT) and we look again.
    """
    pid = stack.state["workers"][function]
    log = stack.logs / f"{function}.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if in_invocation(log):
            os.kill(pid, signal.SIGSTOP)
            killed = False
            try:
                seen = ready() if in_invocation(log) else None
                if seen:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                    return {"pid": pid, **seen}
            finally:
                if not killed:
                    os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    pytest.fail(f"{function} was never caught mid-work within {timeout:.0f} s:\n{stack.log_tail()}")


def local_log(stack: Stack) -> str:
    return (stack.logs / "local.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash-feed") / "crash-280.mrc"
    assert write_feed(path) == 280
    return path


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory, feed: Path) -> dict:
    with running_stack(tmp_path_factory.mktemp("undisturbed")) as stack:
        return snapshot(stack, stack.drop_feed(feed, PROVIDER))


@pytest.fixture
def fresh_stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as stack:
        yield stack


def test_the_undisturbed_run_merges_and_asks_for_review(undisturbed: dict) -> None:
    counts = undisturbed["job"]["counts"]
    assert undisturbed["job"]["records_read"] == sum(counts.values()) == 280
    assert counts["created"] >= 180 and counts["merged"] >= 50 and counts["review"] >= 1, counts
    assert undisturbed["clusters"] == counts["created"] + counts["review"]
    assert sum(len(members) for members in undisturbed["partition"]) == 280


def test_killing_record_match_mid_batch_changes_nothing(
    undisturbed: dict, fresh_stack: Stack, feed: Path
) -> None:
    stack = fresh_stack
    job_id = stack.drop_feed(feed, PROVIDER)

    def mid_batch() -> dict | None:
        job = job_item(stack, job_id) or {}
        if "accepted" not in job or job["status"] != "matching":
            return None  # feed_ingest is still reading: later batches would overtake the redelivery
        visible, in_flight = queue_counts(stack)
        filed = len(scan(stack, "SRC#", and_=" AND last_job = :j", values={":j": {"S": job_id}}))
        counted = int(job.get("matched", 0))
        # Records of a batch are filed (source records written) but the batch is not counted yet.
        if visible == 0 and in_flight > 0 and filed > counted:
            return {"filed": filed, "counted": counted, "in_flight": in_flight}
        return None

    kill = kill_when(stack, "RecordMatchFunction", mid_batch)
    replayed = snapshot(stack, job_id)

    log = local_log(stack)
    assert "RecordMatchFunction <- SQS" in log and "Runtime exited with error: exit status -9" in log, log
    assert "redelivering" in log and "ApproximateReceiveCount up to 2" in log, log
    assert 0 <= kill["counted"] < kill["filed"] < 280, kill
    assert replayed == undisturbed


def test_killing_feed_ingest_mid_read_changes_nothing(
    undisturbed: dict, fresh_stack: Stack, feed: Path
) -> None:
    stack = fresh_stack
    job_id = stack.drop_feed(feed, PROVIDER)

    def mid_read() -> dict | None:
        job = job_item(stack, job_id) or {}
        visible, in_flight = queue_counts(stack)
        if job.get("status") == "reading" and visible + in_flight > 0:
            return {"batches_sent": visible + in_flight}
        return None

    kill = kill_when(stack, "FeedIngestFunction", mid_read)
    dead_letters = stack.state["resources"]["FeedIngestDeadLetterQueue"]["url"]

    def settled() -> str | None:
        if (job_item(stack, job_id) or {}).get("status") == "completed":
            return "completed"
        attributes = stack.client("sqs").get_queue_attributes(
            QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return "dead-lettered" if int(attributes["ApproximateNumberOfMessages"]) else None

    assert wait_for(settled, 60, "the job to complete or its event to be dead-lettered") == "completed"
    replayed = snapshot(stack, job_id)

    log = local_log(stack)
    assert "FeedIngestFunction <- S3" in log and "exit status -9" in log, log
    assert "async retry 1 of 2" in log, log
    assert kill["batches_sent"] >= 1
    assert replayed == undisturbed
