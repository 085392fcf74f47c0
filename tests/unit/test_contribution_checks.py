"""A contribution is all or nothing: every record is checked, down to whether it can be encoded
and stored, before the first one is filed (issue 11, finding 3)."""

import pytest

from demo.feeds import synthetic_records
from fakes import MemoryNetworkStore
from netzone import marc
from netzone import network as nw
from netzone.access import Principal
from netzone.contributions import ContributionBody, contribute
from netzone.errors import Invalid
from netzone.network_service import NetworkService

CENTRAL = Principal("central", frozenset({"central_admin"}), None)
LKU_CAT = Principal("lku-cat", frozenset({"cataloger"}), "lku")


class RecordingFiler:
    def __init__(self):
        self.batches = []

    def file_batch(self, batch):
        self.batches.append(batch)
        raise AssertionError("nothing may be filed from a contribution with a bad record")


@pytest.fixture
def members():
    service = NetworkService(MemoryNetworkStore())
    body = nw.MemberBody(code="lku", name="Lakeshore", import_permissions={"bibliographic": True})
    service.save_member(CENTRAL, body, create=True)
    return service


def _records():
    return [marc.record_to_marc_json(r) for r in synthetic_records(2, "lku", seed=5)]


def _refused(members, records) -> list[dict]:
    filer = RecordingFiler()
    with pytest.raises(Invalid) as refused:
        contribute(LKU_CAT, ContributionBody(records=records), members, filer)
    assert refused.value.code == "invalid-records"
    assert filer.batches == []
    return refused.value.errors


def test_a_lone_surrogate_in_the_second_record_files_nothing(members):
    records = _records()
    title = next(f for f in records[1]["fields"] if "245" in f)["245"]
    title["subfields"][0]["a"] = "Broken \ud800 title"
    (error,) = _refused(members, records)
    assert error["position"] == 2 and "not Unicode" in error["reason"]


def test_a_record_too_long_for_iso2709_files_nothing(members):
    records = _records()
    # Under the 100,000-character cap as JSON, over 99,999 bytes as MARC: "é" is two bytes in UTF-8.
    records[0]["fields"] += [{"500": {"ind1": " ", "ind2": " ", "subfields": [{"a": "é" * 4200}]}}] * 12
    errors = _refused(members, records)
    assert [e["position"] for e in errors] == [1]
    assert "as MARC" in errors[0]["reason"] and "99,999" in errors[0]["reason"]
