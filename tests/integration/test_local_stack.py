"""The project's stack, running locally: feeds dropped in S3 come out of the discovery API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from harness import Stack, wait_for
from pymarc import parse_xml_to_array

from demo import feeds

pytestmark = pytest.mark.integration

OUTCOMES = ("created", "merged", "unchanged", "review", "withdrawn", "rejected")


def drop_feed(stack: Stack, path: Path, provider: str) -> str:
    return stack.drop_feed(path, provider)


def finished_job(stack: Stack, job_id: str, timeout: float = 45) -> dict:
    def job() -> dict | None:
        response = stack.get(f"/feeds/jobs/{job_id}")
        if response.status_code == 404:
            return None  # the ingest has not started yet
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["status"] in ("completed", "failed") else None

    try:
        body = wait_for(job, timeout, f"feed job {job_id}")
    except BaseException:
        print(stack.log_tail())
        raise
    assert body["status"] == "completed", body
    return body


def cluster_ids(stack: Stack) -> list[str]:
    pages = (
        stack.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=stack.state["outputs"]["CatalogTableName"],
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": "CLU#"}, ":s": {"S": "CLU"}},
        )
    )
    return [item["pk"]["S"].removeprefix("CLU#") for page in pages for item in page["Items"]]


def test_the_stack_describes_itself(netzone_stack: Stack) -> None:
    state = netzone_stack.state
    assert state["outputs"]["ApiUrl"] == state["api_url"]
    assert state["resources"]["FeedBucket"]["name"] == "netzone-feeds-123456789012"
    assert state["resources"]["MatchQueue"]["url"].startswith(state["aws_endpoint"])
    assert set(state["workers"]) == {
        "FeedIngestFunction",
        "FeedContinueFunction",
        "RecordMatchFunction",
        "MatchDeadLetterFunction",
        "DiscoveryApiFunction",
        "NetworkApiFunction",
    }
    pool_id = state["outputs"]["StaffUserPoolId"]
    assert state["resources"]["StaffUserPool"]["arn"].endswith(f":userpool/{pool_id}")
    assert state["outputs"]["StaffUserPoolClientId"]
    assert netzone_stack.started_in < 60
    index = netzone_stack.get("/").json()
    assert {(route["method"], route["path"]) for route in index["routes"]} >= {
        ("GET", "/bibs/{id}"),
        ("GET", "/feeds/jobs/{job_id}"),
    }


def test_a_feed_dropped_in_s3_becomes_network_records(netzone_stack: Stack, tmp_path: Path) -> None:
    records = list(feeds.synthetic_records(20, "itest", seed=3))
    path = tmp_path / "itest-20.mrc"
    feeds.write_iso2709(path, records)

    job = finished_job(netzone_stack, drop_feed(netzone_stack, path, "itest"))

    assert job["records_read"] == 20
    assert sum(job["counts"][name] for name in OUTCOMES) == job["records_read"]
    assert job["counts"]["created"] == 20
    titles_by_isbn = {record["020"]["a"]: record["245"]["a"] for record in records}
    found = 0
    for cluster_id in cluster_ids(netzone_stack):
        response = netzone_stack.get(f"/bibs/{cluster_id}")
        assert response.status_code == 200
        assert "xml" in response.headers["Content-Type"]
        (record,) = parse_xml_to_array(io.BytesIO(response.content))
        isbn = record["020"]["a"]
        if isbn in titles_by_isbn:
            assert record["245"]["a"] == titles_by_isbn[isbn]
            found += 1
    assert found == 20

    some_id = cluster_ids(netzone_stack)[0]
    response = netzone_stack.get(f"/bibs/{some_id}", headers={"Accept": "application/json"})
    assert response.status_code == 200
    marc_in_json = response.json()
    assert isinstance(marc_in_json["leader"], str)
    assert {"001": some_id} in marc_in_json["fields"]
    assert any("245" in entry for entry in marc_in_json["fields"])


def test_malformed_records_are_rejected_with_their_position(netzone_stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "mixed.mrc"
    layout = feeds.write_mixed_iso2709(path, valid=10, provider="mixedpress")

    job = finished_job(netzone_stack, drop_feed(netzone_stack, path, "mixedpress"))

    malformed = layout["malformed"]
    assert job["records_read"] == layout["valid"] + len(malformed)
    assert job["counts"]["created"] == layout["valid"]
    assert job["counts"]["rejected"] == len(malformed)
    assert job["counts"]["created"] + job["counts"]["rejected"] == job["records_read"]
    rejects = {reject["position"]: reject["reason"] for reject in job["rejects"]}
    for position, fragment in malformed:
        assert position in rejects, job["rejects"]
        assert fragment.split()[-1] in rejects[position].lower(), (fragment, rejects[position])


def test_an_unknown_bib_is_a_404_problem(netzone_stack: Stack) -> None:
    response = netzone_stack.get("/bibs/no-such-record")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_a_path_without_a_route_is_a_404_problem(netzone_stack: Stack) -> None:
    response = netzone_stack.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://netzone.dev/problems/no-such-route",
        "title": "Not Found",
        "status": 404,
        "code": "no-such-route",
        "detail": "No route GET /nowhere",
    }


def test_a_kbart_title_list_becomes_portfolios_of_network_records(
    netzone_stack: Stack, tmp_path: Path
) -> None:
    records = list(feeds.synthetic_records(4, "kbartbooks", seed=11))
    marc_path = tmp_path / "kbartbooks.mrc"
    feeds.write_iso2709(marc_path, records)
    finished_job(netzone_stack, drop_feed(netzone_stack, marc_path, "kbartbooks"))

    rows = list(feeds.synthetic_kbart_rows(records[:2], 2, provider="kbartco", seed=11))
    kbart_path = tmp_path / "KbartCo_Global_Ebooks_2026-01-15.txt.gz"
    feeds.write_kbart(kbart_path, rows, gzipped=True)
    job = finished_job(netzone_stack, drop_feed(netzone_stack, kbart_path, "kbartco"))

    assert job["format"] == "kbart" and job["records_read"] == 4
    assert job["counts"]["merged"] == 2 and job["counts"]["created"] == 2
    assert sum(job["counts"][name] for name in OUTCOMES) == job["records_read"]
    dynamodb = netzone_stack.client("dynamodb")
    for record, row in zip(records[:2], rows, strict=False):
        source = dynamodb.get_item(
            TableName=netzone_stack.name("CatalogTable"),
            Key={"pk": {"S": f"SRC#kbartbooks#{record['001'].data}"}, "sk": {"S": "SRC"}},
        )["Item"]
        response = netzone_stack.get(f"/bibs/{source['cluster_id']['S']}/portfolios")
        assert response.status_code == 200, response.text
        (portfolio,) = response.json()
        assert portfolio["provider"] == "kbartco" and portfolio["package"] == "Ebooks"
        assert portfolio["url"] == row["title_url"]
