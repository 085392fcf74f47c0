import itertools

import pytest

from demo.feeds import synthetic_records
from fakes import MemoryCatalog
from netzone import catalog, marc, merge
from netzone.catalog import VersionConflict
from netzone.feeds import RecordBatch


def _batch(records, job="job1", seq=0, provider="harbor", start=1):
    return RecordBatch(
        job_id=job,
        provider=provider,
        seq=seq,
        records=[
            {"position": start + i, "source_id": r["001"].data, "marc": marc.record_to_marc_json(r)}
            for i, r in enumerate(records)
        ],
    )


def test_new_records_each_get_a_cluster():
    store = MemoryCatalog()
    records = list(synthetic_records(5, "harbor"))
    result = catalog.file_batch(_batch(records), store)
    assert result.counts == {"created": 5}
    assert len(store.clusters) == 5
    cluster = store.clusters[result.clusters[0]]
    assert cluster.record["001"].data == cluster.cluster_id
    assert cluster.record["245"]["a"] == records[0]["245"]["a"]
    assert cluster.sources == [f"harbor|{records[0]['001'].data}"]


def test_same_record_again_is_unchanged_and_a_changed_one_updates_in_place():
    store = MemoryCatalog()
    records = list(synthetic_records(3, "harbor"))
    first = catalog.file_batch(_batch(records), store)
    again = catalog.file_batch(_batch(records, job="job2"), store)
    assert again.counts == {"unchanged": 3}
    records[1]["245"]["a"] = "A corrected title :"
    changed = catalog.file_batch(_batch(records, job="job3"), store)
    assert changed.counts == {"unchanged": 2, "merged": 1}
    assert len(store.clusters) == 3
    assert store.clusters[first.clusters[1]].record["245"]["a"] == "A corrected title :"


def test_a_redelivered_batch_reports_the_outcomes_it_had_without_writing():
    store = MemoryCatalog()
    batch = _batch(list(synthetic_records(4, "harbor")))
    first = catalog.file_batch(batch, store)
    writes = store.writes
    replay = catalog.file_batch(batch, store)
    assert replay.counts == first.counts == {"created": 4}
    assert store.writes == writes


def test_the_same_id_twice_in_one_batch_is_created_then_updated():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    changed = marc.unpack(marc.pack(record))
    changed["245"]["a"] = "Second thoughts :"
    result = catalog.file_batch(_batch([record, changed]), store)
    assert result.counts == {"created": 1, "merged": 1}
    assert len(store.clusters) == 1


def test_deletion_withdraws_and_leaves_a_tombstone():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    created = catalog.file_batch(_batch([record]), store)
    record.leader = record.leader[:5] + "d" + record.leader[6:]
    withdrawn = catalog.file_batch(_batch([record], job="job2"), store)
    assert withdrawn.counts == {"withdrawn": 1}
    assert store.clusters[created.clusters[0]].status == "withdrawn"
    unknown = next(synthetic_records(1, "meridian"))
    unknown.leader = unknown.leader[:5] + "d" + unknown.leader[6:]
    result = catalog.file_batch(_batch([unknown], job="job3", provider="meridian"), store)
    assert result.counts == {"rejected": 1}
    assert "does not hold" in result.rejects[0].reason


def test_a_lost_race_is_retried_against_the_winner():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    real_save = store.save
    calls = itertools.count()

    def racing_save(source, cluster, *, new_source, new_cluster):
        if next(calls) == 0:
            # Another worker files the same record between our read and our write.
            catalog.file_batch(_batch([record], job="other"), store)
            store.save = real_save
        return real_save(source, cluster, new_source=new_source, new_cluster=new_cluster)

    store.save = racing_save
    result = catalog.file_batch(_batch([record]), store)
    assert result.counts == {"unchanged": 1}
    assert len(store.clusters) == 1


def test_conflicts_that_never_settle_surface_as_errors():
    store = MemoryCatalog()

    def always_conflict(*args, **kwargs):
        raise VersionConflict("busy")

    store.save = always_conflict
    with pytest.raises(VersionConflict):
        catalog.file_batch(_batch(list(synthetic_records(1, "harbor"))), store)


def test_network_record_does_not_depend_on_source_order():
    a, b, c = (merge.Source("harbor", f"h{i}", r) for i, r in enumerate(synthetic_records(3, "harbor")))
    records = [
        marc.canonical_json(merge.network_record("c1", list(p))) for p in itertools.permutations([a, b, c])
    ]
    assert len(set(records)) == 1
    network = merge.network_record("c1", [b, a])
    assert [f["a"] for f in network.get_fields("035") if f["a"].startswith("(harbor)")] == [
        "(harbor)h0",
        "(harbor)h1",
    ]
    assert network["001"].data == "c1" and network.leader[9] == "a"
