"""The REST API's contract as a newcomer meets it (issue 12, item 7): a route under an unknown
parent is a 404, a source record leads to the network record that holds it, and the OpenAPI
document describes every route of every API, with the body of each success."""

import json

import pytest
from conftest import staff

from demo.feeds import synthetic_records, write_iso2709

CENTRAL = staff("central", "central_admin")
PCC_ADMIN = staff("pcc-admin", "member_admin", member="pcc")
UNDER_A_MEMBER = ("libraries", "groups", "staff", "audit")


@pytest.fixture
def network(stack):
    status, body = stack.staff_request("POST", "/members", CENTRAL, {"code": "pcc", "name": "Pinecrest"})
    assert status == 201, body
    return stack


@pytest.mark.parametrize("resource", UNDER_A_MEMBER)
def test_a_list_under_an_unknown_member_is_a_404_not_an_empty_list(network, resource):
    status, body = network.staff_request("GET", f"/members/zzz/{resource}", CENTRAL)
    assert status == 404 and body["code"] == "member-not-found", body
    assert "zzz" in body["detail"]
    status, body = network.staff_request("GET", f"/members/pcc/{resource}", CENTRAL)
    assert status == 200 and "items" in body, body


@pytest.mark.parametrize("resource", UNDER_A_MEMBER)
def test_another_members_staff_learn_nothing_of_whether_a_member_exists(network, resource):
    status, body = network.staff_request("GET", f"/members/zzz/{resource}", PCC_ADMIN)
    assert status == 403 and body["code"] == "forbidden", body


def test_a_network_group_list_needs_no_member(network):
    status, body = network.staff_request("GET", "/groups", CENTRAL)
    assert status == 200 and body["items"] == []


def test_a_source_record_leads_to_the_network_record_that_holds_it(stack, tmp_path):
    records = list(synthetic_records(3, "harbor"))
    write_iso2709(tmp_path / "weekly.mrc", records)
    stack.drop(tmp_path / "weekly.mrc", "harbor")
    stack.drain()
    source_id = records[1]["001"].data

    status, headers, body = stack.get(f"/sources/harbor/{source_id}")
    assert status == 200 and headers["content-type"] == "application/json", body
    found = json.loads(body)
    assert found["provider"] == "harbor" and found["source_id"] == source_id
    assert found["withdrawn"] is False and found["title"]
    assert found["link"] == f"/bibs/{found['cluster_id']}"
    status, _, bib = stack.get(found["link"], accept="application/json")
    assert status == 200 and {"001": found["cluster_id"]} in json.loads(bib)["fields"]


def test_a_feed_jobs_records_file_leads_from_each_record_sent_to_its_network_record(stack, tmp_path):
    records = list(synthetic_records(4, "harbor"))
    write_iso2709(tmp_path / "weekly.mrc", [*records, records[0]])  # the first sent twice in one file
    (job,) = stack.drop(tmp_path / "weekly.mrc", "harbor")["jobs"]
    stack.drain()
    status, _, body = stack.get(f"/feeds/jobs/{job['job_id']}")
    report_key = json.loads(body)["report_key"]
    report = json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=report_key)["Body"].read())
    assert report["records_file"] == f"s3://{stack.bucket}/reports/harbor/weekly.mrc.records.jsonl"

    lines = stack.s3.get_object(Bucket=stack.bucket, Key="reports/harbor/weekly.mrc.records.jsonl")["Body"]
    filed = [json.loads(line) for line in lines.read().splitlines()]
    assert [f["position"] for f in filed] == [1, 2, 3, 4, 5]
    assert [f["source_id"] for f in filed] == [r["001"].data for r in [*records, records[0]]]
    assert [f["outcome"] for f in filed] == ["created"] * 4 + ["unchanged"]
    for entry in filed:
        status, _, body = stack.get(f"/sources/harbor/{entry['source_id']}")
        assert status == 200 and json.loads(body)["cluster_id"] == entry["network_record"]


@pytest.mark.parametrize("path", ["/sources/harbor/no-such-record", "/sources/nobody/1"])
def test_an_unknown_source_record_is_a_404_problem(stack, path):
    status, headers, body = stack.get(path)
    problem = json.loads(body)
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert problem["code"] == "source-not-found" and "001" in problem["detail"]


def test_the_openapi_document_has_a_success_body_for_every_route_of_every_api(network):
    status, document = network.staff_request("GET", "/openapi.json", None)
    assert status == 200
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert {
        ("GET", "/bibs/{bib_id}"),
        ("GET", "/bibs/{bib_id}/portfolios"),
        ("GET", "/feeds/jobs/{job_id}"),
        ("GET", "/sources/{provider}/{source_id}"),
        ("GET", "/clusters/{cluster_id}/audit"),
        ("POST", "/members"),
    } <= set(operations)
    for (method, path), operation in operations.items():
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert successes, f"{method} {path} declares no success"
        for status_code, response in successes.items():
            assert response.get("content"), f"{method} {path} {status_code} declares no body"
            for media, content in response["content"].items():
                assert content.get("schema"), f"{method} {path} {status_code} {media} has no schema"
        problems = [r for s, r in operation["responses"].items() if s[0] in "45"]
        assert all("application/problem+json" in r["content"] for r in problems), f"{method} {path}"


def test_creates_are_declared_as_they_answer_201(network):
    _, document = network.staff_request("GET", "/openapi.json", None)
    creates = [
        "/members",
        "/members/{member}/libraries",
        "/groups",
        "/members/{member}/groups",
        "/providers",
        "/staff",
        "/members/{member}/staff",
    ]
    for path in creates:
        declared = document["paths"][path]["post"]["responses"]
        assert "201" in declared and "200" not in declared, path
    provider = {"code": "harbor", "name": "Harbor Press", "formats": ["marc21"], "source_priority": 70}
    status, body = network.staff_request("POST", "/providers", CENTRAL, provider)
    assert status == 201, body
