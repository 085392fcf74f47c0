"""Review queue, merge on accept, keep apart, unmerge: through the network API, under moto."""

import json

from conftest import staff
from pymarc import Field, Indicators, Subfield

from demo.feeds import synthetic_records, write_iso2709, write_marcxml
from netzone import marc
from netzone.adapters.portfolio_store import DynamoPortfolioStore
from netzone.portfolio_filing import PortfolioItem

NZ_CATALOGER = staff("nz-cat", "cataloger")
LKU_CATALOGER = staff("lku-cat", "cataloger", member="lku")


def _edition_pair(tmp_path):
    """One book from harbor, and meridian's record sharing its identifiers but a later edition."""
    record = next(synthetic_records(1, "harbor"))
    record.remove_fields("250")
    record.add_ordered_field(
        Field(tag="250", indicators=Indicators(" ", " "), subfields=[Subfield("a", "1st ed.")])
    )
    later = marc.unpack(marc.pack(record))
    later["001"].data = "meridian-1"
    later["250"]["a"] = "2nd ed."
    year = int(record["264"]["c"][:4]) + 5
    later["264"]["c"] = f"{year}."
    for field in later.get_fields("008"):
        field.data = f"{field.data[:7]}{year}{field.data[11:]}"
    write_iso2709(tmp_path / "harbor.mrc", [record])
    write_marcxml(tmp_path / "meridian.xml", [later])
    return record, later


def _feed(stack, path, provider):
    (job,) = stack.drop(path, provider)["jobs"]
    stack.drain()
    return stack.get(f"/feeds/jobs/{job['job_id']}")


def test_an_uncertain_match_waits_for_a_cataloger_who_merges_it(stack, tmp_path):
    _edition_pair(tmp_path)
    _feed(stack, tmp_path / "harbor.mrc", "harbor")
    status, _, body = _feed(stack, tmp_path / "meridian.xml", "meridian")
    assert status == 200 and json.loads(body)["counts"]["review"] == 1

    status, page = stack.staff_request("GET", "/reviews", NZ_CATALOGER)
    assert status == 200 and len(page["items"]) == 1
    task = page["items"][0]
    candidate = task["candidates"][0]
    assert candidate["decision"] == "review" and "edition" in candidate["reason"]
    assert any(e["feature"] == "edition" and e["conflict"] for e in candidate["evidence"])

    status, denied = stack.staff_request(
        "POST",
        f"/reviews/{task['task_id']}/accept",
        LKU_CATALOGER,
        {"cluster_id": candidate["cluster_id"], "reason": "same book"},
    )
    assert status == 403 and denied["code"] == "forbidden"
    # An e-book portfolio attached to the record's own cluster follows it into the chosen one.
    portfolios = DynamoPortfolioStore(stack.deployment.name_of("CatalogTable"))
    portfolio = PortfolioItem("openlink", "Ebooks|t-1|", task["cluster_id"], {"package": "Ebooks"}, "h")
    portfolios.save(portfolio, None, None)
    status, decided = stack.staff_request(
        "POST",
        f"/reviews/{task['task_id']}/accept",
        NZ_CATALOGER,
        {"cluster_id": candidate["cluster_id"], "reason": "reprint, same book"},
    )
    assert status == 200 and decided["status"] == "accepted" and decided["decided_by"] == "nz-cat"

    status, cluster = stack.staff_request("GET", f"/clusters/{candidate['cluster_id']}", NZ_CATALOGER)
    assert status == 200 and len(cluster["sources"]) == 2
    assert {p["source"] for p in cluster["provenance"]} >= set(cluster["sources"])
    # The record's own cluster now points at the one it joined.
    status, headers, _ = stack.get(f"/bibs/{task['cluster_id']}")
    assert status == 301 and headers["location"] == f"/bibs/{candidate['cluster_id']}"
    status, audit = stack.staff_request("GET", f"/clusters/{candidate['cluster_id']}/audit", NZ_CATALOGER)
    assert [e["action"] for e in audit["items"]] == ["review-accept"]
    assert audit["items"][0]["reason"] == "reprint, same book"
    status, _, body = stack.get(f"/bibs/{candidate['cluster_id']}/portfolios")
    assert status == 200 and [p["package"] for p in json.loads(body)] == ["Ebooks"]
    assert portfolios.for_cluster(task["cluster_id"]) == []


def test_split_undoes_a_merge_and_both_records_stand_alone(stack, tmp_path):
    _edition_pair(tmp_path)
    _feed(stack, tmp_path / "harbor.mrc", "harbor")
    _feed(stack, tmp_path / "meridian.xml", "meridian")
    _, page = stack.staff_request("GET", "/reviews", NZ_CATALOGER)
    task = page["items"][0]
    target = task["candidates"][0]["cluster_id"]
    stack.staff_request(
        "POST",
        f"/reviews/{task['task_id']}/accept",
        NZ_CATALOGER,
        {"cluster_id": target, "reason": "looked alike"},
    )

    status, result = stack.staff_request(
        "POST",
        f"/clusters/{target}/split",
        NZ_CATALOGER,
        {"source": "meridian|meridian-1", "reason": "second edition after all"},
    )
    assert status == 200
    assert result["cluster"]["sources"] == [
        s for s in result["cluster"]["sources"] if s.startswith("harbor|")
    ]
    new_id = result["split_into"]["cluster_id"]
    status, _, xml = stack.get(f"/bibs/{new_id}")
    assert status == 200 and "2nd ed." in xml
    status, _, xml = stack.get(f"/bibs/{target}")
    assert status == 200 and "2nd ed." not in xml
    status, body = stack.staff_request(
        "POST",
        f"/clusters/{new_id}/split",
        NZ_CATALOGER,
        {"source": "meridian|meridian-1", "reason": "again"},
    )
    assert status == 422 and body["code"] == "single-source"


def test_rejecting_keeps_the_records_apart(stack, tmp_path):
    _edition_pair(tmp_path)
    _feed(stack, tmp_path / "harbor.mrc", "harbor")
    _feed(stack, tmp_path / "meridian.xml", "meridian")
    _, page = stack.staff_request("GET", "/reviews", NZ_CATALOGER)
    task = page["items"][0]
    status, decided = stack.staff_request(
        "POST", f"/reviews/{task['task_id']}/reject", NZ_CATALOGER, {"reason": "different editions"}
    )
    assert status == 200 and decided["status"] == "rejected"
    assert stack.staff_request("GET", "/reviews", NZ_CATALOGER)[1]["items"] == []
    status, rejected = stack.staff_request("GET", "/reviews", NZ_CATALOGER, query={"status": "rejected"})
    assert [t["task_id"] for t in rejected["items"]] == [task["task_id"]]
    status, body = stack.staff_request(
        "POST",
        f"/reviews/{task['task_id']}/accept",
        NZ_CATALOGER,
        {"cluster_id": task["candidates"][0]["cluster_id"], "reason": "changed my mind"},
    )
    assert status == 409 and body["code"] == "already-decided"
