"""A poison batch through the whole local stack: no job is left unaccounted.

A provider's feed holds a record whose stored source record cannot be read (its MARC in the
catalog table is corrupt, as after a bad migration or a hand edit), so record_match fails on the
batch holding it at every delivery. The local SQS poller retries the message as Lambda does; after
maxReceiveCount (5) receives SQS's redrive policy moves it to MatchDeadLetterQueue, whose
event source invokes match_dead_letter: the batch's records are counted `failed` on the job with
the reason record_match kept, and the job completes (`completed_with_failures`) with its report
and rejects file. The other batch of the file is filed as usual.
"""

from __future__ import annotations

import io
import json

import pytest
from harness import Stack, wait_for

from demo import feeds
from netzone import marc
from netzone.adapters.dynamodb import to_item
from netzone.jobs import FINISHED

pytestmark = pytest.mark.integration

PROVIDER = "poisonpress"


def depth(stack: Stack, queue: str) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.state["resources"][queue]["url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_a_poison_batch_is_dead_lettered_and_accounted_and_its_job_completes(
    netzone_stack: Stack, tmp_path
) -> None:
    stack = netzone_stack
    records = list(feeds.synthetic_records(60, PROVIDER, seed=3))  # two batches: 1-50 and 51-60
    poison = [record["001"].data for record in records[50:]]
    item = {
        "pk": f"SRC#{PROVIDER}#{poison[4]}",
        "sk": "SRC",
        "type": "source",
        "provider": PROVIDER,
        "source_id": poison[4],
        "cluster_id": "0",
        "content_hash": "0",
        "marc": b"not a packed record",
        "version": 1,
    }
    stack.client("dynamodb").put_item(TableName=stack.name("CatalogTable"), Item=to_item(item))
    path = tmp_path / "poisoned.mrc"
    feeds.write_iso2709(path, records)

    job_id = stack.drop_feed(path, PROVIDER)

    def finished() -> dict | None:
        response = stack.get(f"/feeds/jobs/{job_id}")
        return (
            response.json() if response.status_code == 200 and response.json()["status"] in FINISHED else None
        )

    try:
        job = wait_for(finished, 120, f"feed job {job_id} to finish")
    except BaseException:
        print(stack.log_tail())
        raise
    assert job["status"] == "completed_with_failures", job
    assert job["counts"]["failed"] == 10 and sum(job["counts"].values()) == job["records_read"] == 60
    failed = [reject for reject in job["rejects"] if reject["outcome"] == "failed"]
    assert [reject["source_id"] for reject in failed] == poison
    assert [reject["position"] for reject in failed] == list(range(51, 61))
    reason = failed[0]["reason"]
    assert reason.startswith("record_match failed 5 times on this record's batch: error: Error -3"), reason

    s3, bucket = stack.client("s3"), stack.state["outputs"]["FeedBucketName"]
    report = json.loads(s3.get_object(Bucket=bucket, Key=job["report_key"])["Body"].read())
    assert report["status"] == "completed_with_failures" and report["accounted"] is True
    assert [(r["position"], r["outcome"]) for r in report["rejects"]] == [
        (p, "failed") for p in range(51, 61)
    ]
    rejects = s3.get_object(Bucket=bucket, Key=job["rejects_key"])["Body"].read()
    _, resent = marc.read_records(io.BytesIO(rejects))
    assert [result.record["001"].data for result in resent] == poison

    # Nothing waits anywhere: the dead letter was taken off its queue once accounted.
    assert depth(stack, "MatchQueue") == 0 and depth(stack, "MatchDeadLetterQueue") == 0
    log = (stack.logs / "local.log").read_text(errors="replace")
    assert "ApproximateReceiveCount up to 5" in log, log
    accounted = (stack.logs / "MatchDeadLetterFunction.log").read_text(errors="replace")
    assert "dead letter accounted" in accounted and '"failed":10' in accounted.replace(" ", ""), accounted
