import json

import boto3
from defusedxml import ElementTree

from demo.feeds import synthetic_records, write_iso2709, write_marcxml, write_mixed_iso2709

MARC_NS = {"marc": "http://www.loc.gov/MARC21/slim"}


def _job(stack, job_id):
    status, _, body = stack.get(f"/feeds/jobs/{job_id}")
    assert status == 200, body
    return json.loads(body)


def _title(xml_body: str) -> str:
    root = ElementTree.fromstring(xml_body.encode())
    return root.find("marc:datafield[@tag='245']/marc:subfield[@code='a']", MARC_NS).text


def test_a_marc_feed_becomes_network_records_readable_over_the_api(stack, tmp_path):
    records = list(synthetic_records(25, "harbor"))
    write_iso2709(tmp_path / "weekly.mrc", records)
    result = stack.drop(tmp_path / "weekly.mrc", "harbor")
    (job,) = result["jobs"]
    assert _job(stack, job["job_id"])["status"] == "matching"

    stack.drain()
    job = _job(stack, job["job_id"])
    assert job["status"] == "completed"
    assert job["records_read"] == 25
    assert job["counts"]["created"] == 25 and sum(job["counts"].values()) == 25

    cluster_ids = [i["cluster_id"]["S"] for i in _clusters(stack)]
    assert len(cluster_ids) == 25
    status, headers, body = stack.get(f"/bibs/{cluster_ids[0]}")
    assert status == 200 and headers["content-type"] == "application/marcxml+xml"
    assert _title(body) in {r["245"]["a"] for r in records}

    status, headers, body = stack.get(f"/bibs/{cluster_ids[0]}", accept="application/json")
    assert status == 200 and headers["content-type"] == "application/json"
    data = json.loads(body)
    assert set(data) == {"leader", "fields"}
    assert {"001": cluster_ids[0]} in data["fields"]


def test_marcxml_feed_with_a_space_in_its_name(stack, tmp_path):
    write_marcxml(tmp_path / "batch one.xml", synthetic_records(6, "meridian"))
    (job,) = stack.drop(tmp_path / "batch one.xml", "meridian")["jobs"]
    stack.drain()
    job = _job(stack, job["job_id"])
    assert job["format"] == "marcxml" and job["counts"]["created"] == 6 and job["status"] == "completed"
    assert job["feed"]["key"] == "feeds/meridian/batch one.xml"


def test_malformed_records_are_listed_with_reasons_and_the_rest_is_stored(stack, tmp_path):
    info = write_mixed_iso2709(tmp_path / "mixed.mrc", 20, provider="harbor")
    (job,) = stack.drop(tmp_path / "mixed.mrc", "harbor")["jobs"]
    stack.drain()
    job = _job(stack, job["job_id"])
    assert job["status"] == "completed"
    assert job["records_read"] == 20 + len(info["malformed"])
    assert job["counts"]["created"] == 20
    assert job["counts"]["rejected"] == len(info["malformed"])
    rejects = {r["position"]: r for r in job["rejects"]}
    assert sorted(rejects) == sorted(p for p, _ in info["malformed"])
    for position, fragment in info["malformed"]:
        assert fragment in rejects[position]["reason"]


def test_a_redelivered_s3_event_does_no_work_twice(stack, tmp_path):
    write_iso2709(tmp_path / "f.mrc", synthetic_records(5, "harbor"))
    first = stack.drop(tmp_path / "f.mrc", "harbor")
    stack.drain()
    again = stack.invoke("FeedIngestFunction", stack.s3_event("feeds/harbor/f.mrc"))
    assert again["jobs"] == [{"job_id": first["jobs"][0]["job_id"], "status": "already read"}]
    assert stack.receive() == []


def test_an_s3_event_retried_after_a_reader_died_reads_the_file_again_and_counts_once(
    stack, tmp_path, quick_transactions
):
    """A reader that died mid-file leaves its job "reading": Lambda's retry reads it all again,
    and the batches the dead run sent are counted once."""
    write_iso2709(tmp_path / "f.mrc", synthetic_records(120, "harbor"))
    stack.register_provider("harbor")
    stack.s3.put_object(Bucket=stack.bucket, Key="feeds/harbor/f.mrc", Body=(tmp_path / "f.mrc").read_bytes())
    event = stack.s3_event("feeds/harbor/f.mrc")
    ingest = stack.handlers["FeedIngestFunction"]
    real_finish = ingest.jobs.finish_reading
    ingest.jobs.finish_reading = lambda *args, **kwargs: (_ for _ in ()).throw(SystemExit("killed"))
    try:
        stack.invoke("FeedIngestFunction", event)  # dies after sending every batch
    except SystemExit:
        pass
    finally:
        ingest.jobs.finish_reading = real_finish
    (job,) = stack.invoke("FeedIngestFunction", event)["jobs"]  # Lambda's retry
    assert job["status"] == "matching" and job["records_read"] == 120
    stack.drain()
    shown = json.loads(stack.get(f"/feeds/jobs/{job['job_id']}")[2])
    assert shown["status"] == "completed" and sum(shown["counts"].values()) == 120
    assert len(stack.catalog_items("SRC#harbor#")) == 120


def test_a_redelivered_batch_is_counted_once(stack, tmp_path):
    write_iso2709(tmp_path / "f.mrc", synthetic_records(8, "harbor"))
    (job,) = stack.drop(tmp_path / "f.mrc", "harbor")["jobs"]
    messages = stack.receive()
    # One record batch, then the step that finishes the job once everything is matched.
    assert [json.loads(m["Body"])["kind"] for m in messages] == ["records", "finish"]
    stack.invoke("RecordMatchFunction", stack.sqs_event(messages))
    stack.invoke("RecordMatchFunction", stack.sqs_event(messages))  # SQS delivers at least once
    job = _job(stack, job["job_id"])
    assert job["counts"]["created"] == 8 and sum(job["counts"].values()) == 8
    assert job["status"] == "completed"


def test_a_poison_message_fails_alone(stack, tmp_path):
    write_iso2709(tmp_path / "f.mrc", synthetic_records(3, "harbor"))
    stack.drop(tmp_path / "f.mrc", "harbor")
    stack.sqs.send_message(
        QueueUrl=stack.queue_url, MessageBody='{"job_id": "x", "records": "not base64 zlib"}'
    )
    messages = stack.receive()
    assert len(messages) == 3  # the batch, the job's finish step, the poison
    response = stack.invoke("RecordMatchFunction", stack.sqs_event(messages))
    poison = next(m["MessageId"] for m in messages if "not base64" in m["Body"])
    assert response["batchItemFailures"] == [{"itemIdentifier": poison}]
    assert len(_clusters(stack)) == 3


def test_a_file_that_is_not_marc_fails_its_job_with_the_reason(stack, tmp_path):
    (tmp_path / "titles.csv").write_text("title,issn\nA,1234-5678\n")
    (job,) = stack.drop(tmp_path / "titles.csv", "harbor")["jobs"]
    assert job["status"] == "failed"
    body = _job(stack, job["job_id"])
    assert body["status"] == "failed" and "MARCXML" in body["error"]
    # Nothing to match: only the step that writes the failed job's report.
    assert [json.loads(m["Body"])["kind"] for m in stack.receive()] == ["finish"]


def test_a_kbart_file_with_an_incomplete_header_fails_its_job_naming_the_columns(stack, tmp_path):
    (tmp_path / "titles.txt").write_text("publication_title\tprint_identifier\nA\t1234-5678\n")
    (job,) = stack.drop(tmp_path / "titles.txt", "harbor")["jobs"]
    body = _job(stack, job["job_id"])
    assert body["status"] == "failed" and "KBART" in body["error"] and "access_type" in body["error"]
    assert [json.loads(m["Body"])["kind"] for m in stack.receive()] == ["finish"]  # the report only


def test_api_errors_are_problem_documents(stack):
    status, headers, body = stack.get("/bibs/doesnotexist")
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "bib-not-found"
    status, _, body = stack.get("/feeds/jobs/nope")
    assert status == 404 and json.loads(body)["code"] == "job-not-found"


def test_unacceptable_media_type_is_406(stack, tmp_path):
    write_iso2709(tmp_path / "f.mrc", synthetic_records(1, "harbor"))
    stack.drop(tmp_path / "f.mrc", "harbor")
    stack.drain()
    (cluster,) = _clusters(stack)
    status, _, body = stack.get(f"/bibs/{cluster['cluster_id']['S']}", accept="text/csv")
    assert status == 406 and "application/marcxml+xml" in json.loads(body)["detail"]


def _clusters(stack):
    import boto3

    table = stack.deployment.name_of("CatalogTable")
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return sorted((i for i in items if i["pk"]["S"].startswith("CLU#")), key=lambda i: i["pk"]["S"])


def test_marc8_gaps_are_kept_as_warnings_on_the_job(stack, tmp_path, corpus):
    source = corpus / "marc4j" / "test" / "resources" / "chinese_mangled_multibyte.mrc"
    (tmp_path / "mangled.mrc").write_bytes(source.read_bytes())
    (job,) = stack.drop(tmp_path / "mangled.mrc", "harbor")["jobs"]
    stack.drain()
    job = _job(stack, job["job_id"])
    assert job["status"] == "completed"
    assert sum(job["counts"].values()) == job["records_read"]
    assert job["records_with_warnings"] >= 1
    assert job["warnings"] and all(w["warnings"] for w in job["warnings"])


def test_a_match_key_item_holds_its_clusters_as_a_string_set(stack):
    from netzone.adapters.catalog_store import DynamoCatalogStore
    from netzone.catalog import Commit, KeyEntry

    table = stack.deployment.name_of("CatalogTable")
    store = DynamoCatalogStore(table, boto3.client("dynamodb"))
    store.commit(Commit(keys=[(KeyEntry("isbn:9780000000002", ["CLU-B", "CLU-A"]), None)]))
    raw = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "KEY#isbn:9780000000002"}, "sk": {"S": "KEY"}}
    )
    assert sorted(raw["Item"]["clusters"]["SS"]) == ["CLU-A", "CLU-B"]
    (entry,) = store.get_keys(["isbn:9780000000002"]).values()
    assert entry.clusters == ["CLU-A", "CLU-B"] and entry.version == 1
    # The last cluster released: DynamoDB has no empty set, the item keeps its version.
    store.commit(Commit(keys=[(KeyEntry(entry.key, [], entry.version), entry.version)]))
    (entry,) = store.get_keys(["isbn:9780000000002"]).values()
    assert entry.clusters == [] and entry.version == 2


def test_seen_marks_only_move_forward_and_a_bare_job_id_from_before_marks_counts_as_older(stack, tmp_path):
    from netzone.adapters.catalog_store import DynamoCatalogStore

    records = list(synthetic_records(3, "harbor"))
    write_iso2709(tmp_path / "three.mrc", records)
    stack.drop(tmp_path / "three.mrc", "harbor")
    stack.drain()
    table = stack.deployment.name_of("CatalogTable")
    client = boto3.client("dynamodb")
    ids = [r["001"].data for r in records]
    marks = {
        ids[0]: "f00dbeefcafe12345678",
        ids[1]: "2026-12-01T00:00:00.000000+00:00#later",
    }  # legacy, newer
    for source_id, value in marks.items():
        client.update_item(
            TableName=table,
            Key={"pk": {"S": f"SRC#harbor#{source_id}"}, "sk": {"S": "SRC"}},
            UpdateExpression="SET seen_job = :v",
            ExpressionAttributeValues={":v": {"S": value}},
        )
    store = DynamoCatalogStore(table, client)
    mark = "2026-11-25T00:00:00.000000+00:00#sweep"
    unseen, _ = store.unseen("harbor", mark, None, 100)
    # The item carrying a newer mark is held by a newer file; the legacy and the older ones are not.
    assert sorted(source_id for _, source_id in unseen) == sorted([ids[0], ids[2]])
    sources = store.get_sources([("harbor", i) for i in ids])
    for source_id in ids[:2]:
        store.mark_seen(sources[f"harbor|{source_id}"], mark)
    after = store.get_sources([("harbor", i) for i in ids])
    assert after[f"harbor|{ids[0]}"].seen_mark == mark  # moved forward from the bare job id
    assert after[f"harbor|{ids[1]}"].seen_mark == marks[ids[1]]  # never back
