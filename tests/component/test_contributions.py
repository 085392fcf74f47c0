"""POST /contributions: members with import permission add records under the same matching."""

import json

import pytest
from conftest import staff

from demo.feeds import overlapping_records, synthetic_records, write_iso2709
from netzone import marc

CENTRAL = staff("central", "central_admin")
LKU_CAT = staff("lku-cat", "cataloger", member="lku")
PCC_CAT = staff("pcc-cat", "cataloger", member="pcc")
LKU_CIRC = staff("lku-circ", "circulation", member="lku")


@pytest.fixture
def network(stack):
    for code, bibliographic in (("lku", True), ("pcc", False)):
        body = {"code": code, "name": code.upper(), "import_permissions": {"bibliographic": bibliographic}}
        status, answer = stack.staff_request("POST", "/members", CENTRAL, body)
        assert status == 201, answer
    return stack


def _records(provider, count=3, seed=3):
    return [marc.record_to_marc_json(r) for r in synthetic_records(count, provider, seed=seed)]


def _catalog_sources(stack, provider):
    return {i["source_id"]["S"]: i for i in stack.catalog_items(f"SRC#{provider}#")}


def test_a_permitted_member_contributes_records_under_the_same_matching(network, tmp_path):
    # A provider's record is in the network; the member contributes its own copy and two new ones.
    harbor = list(synthetic_records(1, "harbor", seed=11))
    write_iso2709(tmp_path / "h.mrc", harbor)
    network.drop(tmp_path / "h.mrc", "harbor")
    network.drain()
    (copy,) = overlapping_records(harbor, "lku", conflicts=0)
    records = [marc.record_to_marc_json(copy), *_records("lku-new", 2)]

    status, answer = network.staff_request("POST", "/contributions", LKU_CAT, {"records": records})
    assert status == 200, answer.get("errors")
    assert answer["member"] == "lku" and answer["provider"] == "member.lku"
    assert answer["counts"]["merged"] == 1 and answer["counts"]["created"] == 2
    assert [r["outcome"] for r in answer["records"]] == ["merged", "created", "created"]
    harbor_cluster = next(iter(_catalog_sources(network, "harbor").values()))["cluster_id"]["S"]
    assert answer["records"][0]["network_record"] == harbor_cluster
    assert set(_catalog_sources(network, "member.lku")) == {r["source_id"] for r in answer["records"]}

    # The same contribution again: nothing changes, the same outcomes are reported.
    status, again = network.staff_request("POST", "/contributions", LKU_CAT, {"records": records})
    assert status == 200 and again["records"] == answer["records"]
    assert again["contribution_id"] == answer["contribution_id"]


def test_a_member_without_import_permission_is_refused_and_nothing_is_filed(network):
    status, answer = network.staff_request("POST", "/contributions", PCC_CAT, {"records": _records("pcc")})
    assert status == 403 and answer["code"] == "import-not-permitted"
    assert "import_permissions.bibliographic" in answer["detail"]
    assert _catalog_sources(network, "member.pcc") == {}


def test_roles_and_scope_decide_who_contributes(network):
    status, answer = network.staff_request("POST", "/contributions", LKU_CIRC, {"records": _records("lku")})
    assert status == 403 and "cataloger" in answer["detail"]
    status, answer = network.staff_request(
        "POST", "/contributions", LKU_CAT, {"member": "pcc", "records": _records("lku")}
    )
    assert status == 403  # a cataloger contributes for their own member only
    status, answer = network.staff_request("POST", "/contributions", CENTRAL, {"records": _records("x")})
    assert status == 422 and answer["code"] == "member-required"
    status, answer = network.staff_request(
        "POST", "/contributions", CENTRAL, {"member": "lku", "records": _records("lku", 1, seed=9)}
    )
    assert status == 200 and answer["counts"]["created"] == 1, answer


def test_one_bad_record_rejects_the_whole_contribution_with_reasons(network):
    records = _records("lku", 3)
    records[1] = {**records[1], "fields": [f for f in records[1]["fields"] if "001" not in f]}
    records.append({"leader": "not a leader", "fields": "nope"})
    records.append(
        {"leader": "00000nam a2200000 i 4500", "fields": [{"001": "x"}, {"245": {"subfields": [{"a": 5}]}}]}
    )
    status, answer = network.staff_request("POST", "/contributions", LKU_CAT, {"records": records})
    assert status == 422 and answer["code"] == "invalid-records"
    assert [e["position"] for e in answer["errors"]] == [2, 4, 5]
    assert "subfields" in answer["errors"][2]["reason"]
    assert "001" in answer["errors"][0]["reason"]
    assert _catalog_sources(network, "member.lku") == {}  # never half-ingested

    status, answer = network.staff_request("POST", "/contributions", LKU_CAT, {"records": []})
    assert status == 422
    status, answer = network.staff_request(
        "POST", "/contributions", LKU_CAT, {"records": _records("lku", 51)}
    )
    assert status == 422 and json.dumps(answer).count("50") >= 1
