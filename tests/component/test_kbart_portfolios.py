"""KBART title lists through feed_ingest and record_match under moto: rows become portfolios."""

import gzip
import io
import json

import boto3

from demo.feeds import kbart_row, synthetic_kbart_rows, synthetic_records, write_iso2709, write_kbart
from netzone import ingest
from netzone.adapters.catalog_store import DynamoCatalogStore
from netzone.adapters.dynamodb import to_item
from netzone.adapters.network_store import object_key
from netzone.adapters.portfolio_store import DynamoPortfolioStore, parse_pk
from netzone.portfolio_filing import PortfolioFiler

KBART_FILE = "OpenLink_NorthConsortium_Ebooks_2026-01-15.txt"


def _register(stack, *codes):
    """Providers in the network registry, as the central office would have them."""
    from netzone.network import Provider, Ref

    client = boto3.client("dynamodb")
    for code in codes:
        provider = Provider(code=code, name=code, formats=["marc21", "kbart"], version=1)
        item = {
            "pk": "NETWORK",
            "sk": object_key(Ref("provider", code)),
            **provider.model_dump(exclude_none=True),
        }
        client.put_item(TableName=stack.deployment.name_of("NetworkTable"), Item=to_item(item))


def _job(stack, job_id):
    status, _, body = stack.get(f"/feeds/jobs/{job_id}")
    assert status == 200, body
    return json.loads(body)


def _portfolios(stack, cluster_id):
    status, headers, body = stack.get(f"/bibs/{cluster_id}/portfolios", accept="application/json")
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def _catalog(stack):
    return DynamoCatalogStore(stack.deployment.name_of("CatalogTable"))


def _marc_then_kbart(stack, tmp_path, shared=3, new=4, extra_lines=""):
    _register(stack, "harbor", "openlink")
    records = list(synthetic_records(5, "harbor"))
    write_iso2709(tmp_path / "books.mrc", records)
    stack.drop(tmp_path / "books.mrc", "harbor")
    stack.drain()
    rows = list(synthetic_kbart_rows(records[:shared], new))
    write_kbart(tmp_path / KBART_FILE, rows)
    if extra_lines:
        with open(tmp_path / KBART_FILE, "a") as out:
            out.write(extra_lines)
    (job,) = stack.drop(tmp_path / KBART_FILE, "openlink")["jobs"]
    return records, rows, job


def _cluster_of(stack, record):
    (source,) = _catalog(stack).get_sources([("harbor", record["001"].data)]).values()
    return source.cluster_id


def test_a_kbart_feed_attaches_portfolios_and_makes_brief_records(stack, tmp_path):
    bad = (
        kbart_row(
            publication_title="Broken title",
            print_identifier="0028-0836",
            date_first_issue_online="2020-13",
            title_id="broken-1",
        )
        + "\n"
    )
    records, rows, job = _marc_then_kbart(stack, tmp_path, extra_lines=bad)
    assert job["status"] == "matching" and job["records_read"] == 8 and job["rejected"] == 1
    stack.drain()
    body = _job(stack, job["job_id"])
    assert body["status"] == "completed" and body["format"] == "kbart"
    assert body["counts"] == {
        "created": 4,
        "merged": 3,
        "unchanged": 0,
        "review": 0,
        "withdrawn": 0,
        "rejected": 1,
        "failed": 0,
    }
    (reject,) = body["rejects"]
    assert reject["position"] == 8 and reject["source_id"] == "broken-1"
    assert "date_first_issue_online" in reject["reason"]
    # The rejects file is itself a KBART file holding just the bad row: fix it and resend.
    assert body["rejects_key"] == "rejects/openlink/" + KBART_FILE
    resend = stack.s3.get_object(Bucket=stack.bucket, Key=body["rejects_key"])["Body"].read()
    checked = ingest.check(io.BytesIO(resend))
    assert checked.format == "kbart" and checked.records_read == 1 and checked.rejected == 1
    assert resend.decode().splitlines()[1] == bad.strip("\n")

    for record, row in zip(records[:3], rows, strict=False):
        (portfolio,) = _portfolios(stack, _cluster_of(stack, record))
        assert portfolio["provider"] == "openlink" and portfolio["package"] == "Ebooks"
        assert portfolio["url"] == row["title_url"]
        assert portfolio["open_access"] == (row["access_type"] == "F")
        assert {i["value"] for i in portfolio["identifiers"]} == {
            row["print_identifier"],
            row["online_identifier"],
        }
    assert _portfolios(stack, _cluster_of(stack, records[4])) == []

    store = DynamoPortfolioStore(stack.deployment.name_of("CatalogTable"))
    briefs = [_catalog(stack).get_sources([("openlink", r["title_id"])]) for r in rows[3:]]
    assert all(len(found) == 1 for found in briefs)
    for found, row in zip(briefs, rows[3:], strict=True):
        (source,) = found.values()
        (portfolio,) = _portfolios(stack, source.cluster_id)
        assert portfolio["url"] == row["title_url"]
        assert len(store.for_cluster(source.cluster_id)) == 1
        status, _, marc_json = stack.get(f"/bibs/{source.cluster_id}", accept="application/json")
        assert status == 200 and row["publication_title"] in marc_json


def test_a_redelivered_portfolio_batch_is_counted_once_and_a_resend_is_unchanged(stack, tmp_path):
    _register(stack, "openlink")
    write_kbart(tmp_path / KBART_FILE, synthetic_kbart_rows([], 6))
    (job,) = stack.drop(tmp_path / KBART_FILE, "openlink")["jobs"]
    messages = stack.receive()
    assert [json.loads(m["Body"])["kind"] for m in messages] == ["portfolios", "finish"]
    stack.invoke("RecordMatchFunction", stack.sqs_event(messages))
    response = stack.invoke("RecordMatchFunction", stack.sqs_event(messages))
    assert response["batchItemFailures"] == []
    body = _job(stack, job["job_id"])
    assert body["counts"]["created"] == 6 and sum(body["counts"].values()) == 6
    assert body["status"] == "completed"

    # The same list again, gzip, under another name: detected from content, nothing changes.
    gz = tmp_path / "openlink-latest.bin"
    gz.write_bytes(gzip.compress((tmp_path / KBART_FILE).read_bytes()))
    (again,) = stack.drop(gz, "openlink", name=KBART_FILE + ".gz")["jobs"]
    stack.drain()
    body = _job(stack, again["job_id"])
    assert body["format"] == "kbart" and body["counts"]["unchanged"] == 6 and body["status"] == "completed"


def test_record_and_portfolio_batches_in_one_sqs_event(stack, tmp_path):
    _register(stack, "harbor", "openlink")
    write_iso2709(tmp_path / "f.mrc", synthetic_records(3, "harbor", seed=5))
    stack.drop(tmp_path / "f.mrc", "harbor")
    write_kbart(tmp_path / KBART_FILE, synthetic_kbart_rows([], 2))
    stack.drop(tmp_path / KBART_FILE, "openlink")
    messages = stack.receive()
    kinds = sorted(json.loads(m["Body"])["kind"] for m in messages)
    assert kinds == ["finish", "finish", "portfolios", "records"]
    response = stack.invoke("RecordMatchFunction", stack.sqs_event(messages))
    assert response["batchItemFailures"] == []
    clusters = [
        i
        for i in boto3.client("dynamodb").scan(TableName=stack.deployment.name_of("CatalogTable"))["Items"]
        if i["pk"]["S"].startswith("CLU#") and i["sk"]["S"] == "CLU"
    ]
    assert len(clusters) == 5


def test_withdrawn_portfolios_leave_discovery_and_the_provider_index_shows_them(stack, tmp_path):
    records, rows, job = _marc_then_kbart(stack, tmp_path, shared=1, new=1)
    stack.drain()
    table = stack.deployment.name_of("CatalogTable")
    index = boto3.client("dynamodb").query(
        TableName=table,
        IndexName="ByFeedProvider",
        KeyConditionExpression="feed_provider = :p AND begins_with(pk, :portfolios)",
        ExpressionAttributeValues={":p": {"S": "openlink"}, ":portfolios": {"S": "PORT#openlink#"}},
    )["Items"]
    assert len(index) == 2
    # The file's seen mark: when it was dropped (the S3 event's time), then the job.
    # The brief record made from a row is not in the index: it goes with its portfolio, never
    # with a full-replacement MARC file of the provider.
    briefs = boto3.client("dynamodb").query(
        TableName=table,
        IndexName="ByFeedProvider",
        KeyConditionExpression="feed_provider = :p AND begins_with(pk, :sources)",
        ExpressionAttributeValues={":p": {"S": "openlink"}, ":sources": {"S": "SRC#openlink#"}},
    )["Items"]
    assert briefs == [] and _catalog(stack).get_sources([("openlink", rows[1]["title_id"])])
    (mark,) = {i["seen_job"]["S"] for i in index}
    assert mark.startswith("2026-11-22T10:") and mark.endswith(f"+00:00#{job['job_id']}")
    assert {i["withdrawn"]["BOOL"] for i in index} == {False}

    filer = PortfolioFiler(_catalog(stack), DynamoPortfolioStore(table))
    attached = _cluster_of(stack, records[0])
    (brief_source,) = _catalog(stack).get_sources([("openlink", rows[1]["title_id"])]).values()
    for item in index:
        provider, portfolio_id = parse_pk(item["pk"]["S"])
        assert filer.withdraw(provider, portfolio_id, "sweep-1") is True
        assert filer.withdraw(provider, portfolio_id, "sweep-2") is False
    assert _portfolios(stack, attached) == []
    assert stack.get(f"/bibs/{attached}")[0] == 200
    assert stack.get(f"/bibs/{brief_source.cluster_id}/portfolios")[0] == 410
    status, _, body = stack.get("/bibs/nothing-here/portfolios")
    assert status == 404 and json.loads(body)["code"] == "bib-not-found"


def test_a_full_replacement_kbart_list_withdraws_the_portfolios_it_no_longer_lists(stack, tmp_path):
    records, rows, _ = _marc_then_kbart(stack, tmp_path, shared=2, new=2)
    stack.drain()
    stack.register_provider("openlink", feed_mode="full", formats=["kbart"])
    stack.handlers["FeedIngestFunction"].providers._cache.clear()  # as if its minute-long cache ran out
    attached = _cluster_of(stack, records[1])
    (brief_source,) = _catalog(stack).get_sources([("openlink", rows[3]["title_id"])]).values()
    brief = brief_source.cluster_id
    assert len(_portfolios(stack, attached)) == 1 and len(_portfolios(stack, brief)) == 1

    # The next list drops one attached title and one brief-record title.
    write_kbart(tmp_path / KBART_FILE, [rows[0], rows[2]])
    (job,) = stack.drop(tmp_path / KBART_FILE, "openlink", register=False)["jobs"]
    stack.drain()
    body = _job(stack, job["job_id"])
    assert body["status"] == "completed" and body["feed_mode"] == "full"
    assert body["counts"]["unchanged"] == 2 and sum(body["counts"].values()) == 2
    assert body["withdrawn_absent"] == 2
    assert _portfolios(stack, attached) == []  # the MARC record stays, its portfolio goes
    assert stack.get(f"/bibs/{attached}")[0] == 200
    assert stack.get(f"/bibs/{brief}", accept="application/json")[0] == 410  # brief record: tombstone
    assert len(_portfolios(stack, _cluster_of(stack, records[0]))) == 1


def test_a_kbart_list_read_near_the_time_limit_continues_in_new_invocations(
    stack, tmp_path, quick_transactions
):
    from demo.feeds import write_kbart

    path = tmp_path / "OpenLink_Global_Ebooks_2026-01-15.txt"
    write_kbart(path, list(synthetic_kbart_rows([], 120)))
    key = f"feeds/openlink/{path.name}"
    stack.register_provider("openlink")
    stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=path.read_bytes())
    # Less time left than the pause margin: each run pauses at its first batch end.
    nearly_out = [30_000]
    (job,) = stack.invoke("FeedIngestFunction", stack.s3_event(key), remaining=list(nearly_out))["jobs"]
    assert job["status"] == "reading" and job["continues_at"] == 51
    continue_queue = stack.deployment.resources["FeedContinueQueue"].url
    runs = 1
    while messages := stack.sqs.receive_message(QueueUrl=continue_queue, MaxNumberOfMessages=1).get(
        "Messages"
    ):
        assert "offset" not in json.loads(messages[0]["Body"])  # a KBART list is re-read, rows skipped
        sqs_event = stack.sqs_event(messages)
        sqs_event["Records"][0]["eventSourceARN"] = stack.deployment.resources["FeedContinueQueue"].arn
        stack.invoke("FeedContinueFunction", sqs_event, remaining=list(nearly_out))
        stack.sqs.delete_message(QueueUrl=continue_queue, ReceiptHandle=messages[0]["ReceiptHandle"])
        runs += 1
    assert runs == 3
    stack.drain()
    shown = _job(stack, job["job_id"])
    assert shown["status"] == "completed" and shown["records_read"] == 120
    assert sum(shown["counts"].values()) == 120 and shown["counts"]["rejected"] == 0
    assert len(stack.catalog_items("PORT#openlink#")) == 120
