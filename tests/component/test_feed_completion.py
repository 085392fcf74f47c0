"""Finishing feed jobs through the handlers: reports and rejects objects beside the feeds, the
FeedCompleted event on the bus, full-replacement withdrawals, re-drops that apply only changes."""

import io
import json

from pymarc import Field, Subfield

from demo.feeds import synthetic_records, write_iso2709, write_mixed_iso2709
from netzone import ingest, jobs, marc


def _job(stack, job_id):
    status, _, body = stack.get(f"/feeds/jobs/{job_id}")
    assert status == 200, body
    return json.loads(body)


def _object(stack, key: str) -> bytes:
    return stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()


def test_a_finished_job_writes_its_report_and_rejects_file_and_announces_itself(stack, tmp_path, events):
    layout = write_mixed_iso2709(tmp_path / "weekly.mrc", valid=12, provider="harbor")
    (job,) = stack.drop(tmp_path / "weekly.mrc", "harbor")["jobs"]
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "completed"
    assert shown["report_key"] == "reports/harbor/weekly.mrc.json"
    assert shown["rejects_key"] == "rejects/harbor/weekly.mrc"

    report = json.loads(_object(stack, shown["report_key"]))
    assert report["records_read"] == 12 + len(layout["malformed"]) == sum(report["counts"].values())
    assert report["accounted"] is True and report["counts"]["created"] == 12
    assert [(r["position"], r["reason"]) for r in report["rejects"]] == [
        (r["position"], r["reason"]) for r in shown["rejects"]
    ]
    assert {r["position"] for r in report["rejects"]} == {p for p, _ in layout["malformed"]}
    assert all(r["reason"] for r in report["rejects"])
    assert report["timings"]["total_seconds"] >= report["timings"]["reading_seconds"] >= 0

    # The rejects file holds exactly the rejected records, as sent: fix them and resend.
    fmt, results = marc.read_records(io.BytesIO(_object(stack, shown["rejects_key"])))
    resent = list(results)
    assert fmt == "iso2709" and len(resent) == sum(1 for r in report["rejects"] if "in_rejects_file" in r)
    assert len(resent) >= len(layout["malformed"]) - 1  # a record cut short may have no bytes left
    assert ingest.check(io.BytesIO(_object(stack, shown["rejects_key"]))).accepted == 0

    (event,) = events()
    assert event["detail-type"] == "FeedCompleted" and event["source"] == "netzone.feeds"
    assert event["detail"]["job_id"] == job["job_id"] and event["detail"]["status"] == "completed"
    assert event["detail"]["counts"] == report["counts"]
    assert event["detail"]["report"] == f"s3://{stack.bucket}/reports/harbor/weekly.mrc.json"


def test_a_feed_without_rejects_gets_a_report_but_no_rejects_file(stack, tmp_path, events):
    write_iso2709(tmp_path / "clean.mrc", synthetic_records(5, "harbor"))
    (job,) = stack.drop(tmp_path / "clean.mrc", "harbor")["jobs"]
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "completed" and shown["rejects_key"] is None
    assert json.loads(_object(stack, "reports/harbor/clean.mrc.json"))["rejects"] == []
    assert stack.s3.list_objects_v2(Bucket=stack.bucket, Prefix="rejects/")["KeyCount"] == 0
    assert [e["detail"]["job_id"] for e in events()] == [job["job_id"]]


def test_a_feed_from_an_unknown_provider_is_reported_and_nothing_is_ingested(stack, tmp_path, events):
    write_iso2709(tmp_path / "offer.mrc", synthetic_records(4, "stranger"))
    (job,) = stack.drop(tmp_path / "offer.mrc", "stranger", register=False)["jobs"]
    assert job["status"] == "failed"
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "failed" and "not registered" in shown["error"]
    report = json.loads(_object(stack, "reports/stranger/offer.mrc.json"))
    assert report["status"] == "failed" and report["error"] == shown["error"]
    assert sum(report["counts"].values()) == 0
    (event,) = events()
    assert event["detail"]["status"] == "failed" and "not registered" in event["detail"]["error"]
    assert stack.catalog_items("SRC#") == []


def _retitled(record, title):
    changed = marc.marc_json_to_record(marc.record_to_marc_json(record))
    changed.remove_fields("245")
    changed.add_ordered_field(Field("245", ["1", "0"], [Subfield("a", title)]))
    return changed


def test_a_full_replacement_feed_withdraws_what_it_no_longer_holds(stack, tmp_path, events):
    stack.register_provider("meridian", feed_mode="full")
    first = list(synthetic_records(10, "meridian"))
    write_iso2709(tmp_path / "holdings.mrc", first)
    (job,) = stack.drop(tmp_path / "holdings.mrc", "meridian", register=False)["jobs"]
    stack.drain()
    assert _job(stack, job["job_id"])["withdrawn_absent"] == 0  # nothing held before

    # The next full file: 3 records gone, 1 changed, 2 new.
    second = [
        *first[:6],
        _retitled(first[6], "A corrected title"),
        *list(synthetic_records(12, "meridian"))[10:],
    ]
    write_iso2709(tmp_path / "holdings.mrc", second)
    (job,) = stack.drop(tmp_path / "holdings.mrc", "meridian", register=False)["jobs"]
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "completed" and shown["feed_mode"] == "full"
    assert shown["counts"] | {} == {
        **dict.fromkeys(jobs.OUTCOMES, 0),
        "unchanged": 6,
        "merged": 1,
        "created": 2,
    }
    assert shown["withdrawn_absent"] == 3

    gone = {r["001"].data for r in first[7:]}
    sources = {i["source_id"]["S"]: i for i in stack.catalog_items("SRC#meridian#")}
    assert {s for s, i in sources.items() if i["withdrawn"]["BOOL"]} == gone
    # Each of their clusters lost its only source: a tombstone, which discovery still answers.
    for source_id in gone:
        cluster_id = sources[source_id]["cluster_id"]["S"]
        status, _, body = stack.get(f"/bibs/{cluster_id}", accept="application/json")
        assert status == 410 and "withdrawn" in body
    report = json.loads(_object(stack, shown["report_key"]))
    assert report["withdrawn_absent"] == 3 and report["accounted"] is True
    assert [e["detail"]["withdrawn_absent"] for e in events()] == [0, 3]


def test_an_empty_full_replacement_file_withdraws_nothing(stack, tmp_path):
    stack.register_provider("meridian", feed_mode="full")
    write_iso2709(tmp_path / "holdings.mrc", synthetic_records(4, "meridian"))
    stack.drop(tmp_path / "holdings.mrc", "meridian", register=False)
    stack.drain()
    # A file whose records are all rejected must not empty the provider's catalog.
    (tmp_path / "broken.mrc").write_bytes(b"00026nam a2200025 a 4500\x1e\x1d")
    (job,) = stack.drop(tmp_path / "broken.mrc", "meridian", register=False)["jobs"]
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "completed" and shown["withdrawn_absent"] == 0
    assert not any(i["withdrawn"]["BOOL"] for i in stack.catalog_items("SRC#meridian#"))


def test_the_same_object_twice_does_nothing_twice_and_a_changed_redrop_applies_only_changes(stack, tmp_path):
    records = list(synthetic_records(8, "harbor"))
    write_iso2709(tmp_path / "weekly.mrc", records)
    (first,) = stack.drop(tmp_path / "weekly.mrc", "harbor")["jobs"]
    key = "feeds/harbor/weekly.mrc"
    again = stack.invoke("FeedIngestFunction", stack.s3_event(key))["jobs"][0]  # same key and ETag
    assert again == {"job_id": first["job_id"], "status": "already read"}
    queued = stack.sqs.get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert queued["Attributes"]["ApproximateNumberOfMessages"] == "2"  # one batch and one finish step, once
    stack.drain()
    assert sum(_job(stack, first["job_id"])["counts"].values()) == 8

    write_iso2709(tmp_path / "weekly.mrc", [*records[:7], _retitled(records[7], "Second thoughts")])
    (changed,) = stack.drop(tmp_path / "weekly.mrc", "harbor")["jobs"]
    assert changed["job_id"] != first["job_id"]
    stack.drain()
    counts = _job(stack, changed["job_id"])["counts"]
    assert counts["unchanged"] == 7 and counts["merged"] == 1 and sum(counts.values()) == 8


def test_a_run_near_the_time_limit_checkpoints_and_continues_in_new_invocations(
    stack, tmp_path, quick_transactions
):
    records = list(synthetic_records(120, "harbor"))
    write_iso2709(tmp_path / "big.mrc", records)
    key = "feeds/harbor/big.mrc"
    stack.register_provider("harbor")
    stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=(tmp_path / "big.mrc").read_bytes())
    # Less time left than the pause margin: each run pauses at its first batch end (50 records).
    nearly_out = [30_000]
    (job,) = stack.invoke("FeedIngestFunction", stack.s3_event(key), remaining=list(nearly_out))["jobs"]
    assert job["status"] == "reading" and job["continues_at"] == 51
    continue_queue = stack.deployment.resources["FeedContinueQueue"].url
    runs = 1
    while messages := stack.sqs.receive_message(QueueUrl=continue_queue, MaxNumberOfMessages=1).get(
        "Messages"
    ):
        checkpoint = json.loads(messages[0]["Body"])
        assert checkpoint["offset"] > 0  # plain ISO 2709: the next run reads from the byte offset
        sqs_event = stack.sqs_event(messages)
        sqs_event["Records"][0]["eventSourceARN"] = stack.deployment.resources["FeedContinueQueue"].arn
        stack.invoke("FeedContinueFunction", sqs_event, remaining=list(nearly_out))
        # A redelivered continuation does no work twice (idempotent on job and position).
        stack.invoke("FeedContinueFunction", sqs_event, remaining=list(nearly_out))
        stack.sqs.delete_message(QueueUrl=continue_queue, ReceiptHandle=messages[0]["ReceiptHandle"])
        runs += 1
    assert runs == 3
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "completed" and shown["records_read"] == 120
    assert sum(shown["counts"].values()) == 120 and shown["counts"]["rejected"] == 0
    assert len(stack.catalog_items("SRC#harbor#")) == 120
