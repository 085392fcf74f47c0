import copy
import itertools
import threading

import pytest
from pymarc import Field, Indicators, Subfield

from demo.feeds import synthetic_records
from fakes import MemoryCatalog
from netzone import catalog, marc, record_filing
from netzone.batches import RecordBatch
from netzone.errors import VersionConflict


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


def _copy_as(record, source_id):
    """The same manifestation as another provider describes it: its own 001, same content."""
    other = marc.unpack(marc.pack(record))
    other["001"].data = source_id
    return other


def test_new_records_each_get_a_cluster():
    store = MemoryCatalog()
    records = list(synthetic_records(5, "harbor"))
    result = record_filing.file_batch(_batch(records), store)
    assert result.counts == {"created": 5}
    assert len(store.clusters) == 5
    cluster = store.clusters[result.clusters[0]]
    assert cluster.record["001"].data == cluster.cluster_id
    assert cluster.record["245"]["a"] == records[0]["245"]["a"]
    assert cluster.sources == [f"harbor|{records[0]['001'].data}"]
    assert cluster.keys and all(store.keys[k].clusters == [cluster.cluster_id] for k in cluster.keys)


def test_the_same_book_from_another_provider_merges_with_provenance():
    store = MemoryCatalog()
    records = list(synthetic_records(4, "harbor"))
    first = record_filing.file_batch(_batch(records), store)
    copies = [_copy_as(r, f"m-{i}") for i, r in enumerate(records[:2])]
    second = record_filing.file_batch(_batch(copies, job="job2", provider="meridian"), store)
    assert second.counts == {"merged": 2}
    assert len(store.clusters) == 4
    cluster = store.clusters[first.clusters[0]]
    assert cluster.sources == sorted([f"harbor|{records[0]['001'].data}", "meridian|m-0"])
    provenance = {f["a"] for f in cluster.record.get_fields("035")}
    assert {f"(harbor){records[0]['001'].data}", "(meridian)m-0"} <= provenance


def test_same_record_again_is_unchanged_and_a_changed_one_updates_in_place():
    store = MemoryCatalog()
    records = list(synthetic_records(3, "harbor"))
    first = record_filing.file_batch(_batch(records), store)
    again = record_filing.file_batch(_batch(records, job="job2"), store)
    assert again.counts == {"unchanged": 3}
    records[1]["245"]["a"] = "A corrected title :"
    changed = record_filing.file_batch(_batch(records, job="job3"), store)
    assert changed.counts == {"unchanged": 2, "merged": 1}
    assert len(store.clusters) == 3
    assert store.clusters[first.clusters[1]].record["245"]["a"] == "A corrected title :"


def test_a_redelivered_batch_reports_the_outcomes_it_had_without_writing():
    store = MemoryCatalog()
    batch = _batch(list(synthetic_records(4, "harbor")))
    first = record_filing.file_batch(batch, store)
    commits = store.commits
    replay = record_filing.file_batch(batch, store)
    assert replay.counts == first.counts == {"created": 4}
    assert store.commits == commits


def test_the_same_id_twice_in_one_batch_is_created_then_updated():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    changed = marc.unpack(marc.pack(record))
    changed["245"]["a"] = "Second thoughts :"
    result = record_filing.file_batch(_batch([record, changed]), store)
    assert result.counts == {"created": 1, "merged": 1}
    assert len(store.clusters) == 1


def test_deletion_withdraws_and_the_last_one_leaves_a_tombstone():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    created = record_filing.file_batch(_batch([record]), store)
    record_filing.file_batch(_batch([_copy_as(record, "m-1")], job="j2", provider="meridian"), store)
    cluster_id = created.clusters[0]
    record.leader = record.leader[:5] + "d" + record.leader[6:]
    withdrawn = record_filing.file_batch(_batch([record], job="job3"), store)
    assert withdrawn.counts == {"withdrawn": 1}
    assert store.clusters[cluster_id].status == "active" and store.clusters[cluster_id].sources == [
        "meridian|m-1"
    ]
    gone = _copy_as(record, "m-1")
    record_filing.file_batch(_batch([gone], job="job4", provider="meridian"), store)
    assert store.clusters[cluster_id].status == "withdrawn"
    assert all(cluster_id not in store.keys[k].clusters for k in store.keys)
    unknown = next(synthetic_records(1, "other"))
    unknown.leader = unknown.leader[:5] + "d" + unknown.leader[6:]
    result = record_filing.file_batch(_batch([unknown], job="job5", provider="other"), store)
    assert result.counts == {"rejected": 1} and "does not hold" in result.rejects[0].reason


def legacy_twin_review():
    """A book filed once, plus a duplicate cluster the network already held (say, from before
    matching existed); the same book then arrives from meridian and matches both."""
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    first = record_filing.file_batch(_batch([record]), store)
    twin = copy.deepcopy(store.clusters[first.clusters[0]])
    twin.cluster_id, twin.sources = "legacy-twin", ["legacy|1"]
    twin.profiles = {"legacy|1": next(iter(twin.profiles.values()))}
    store.clusters["legacy-twin"] = twin
    for key in twin.keys:
        store.keys[key].clusters.append("legacy-twin")
    result = record_filing.file_batch(_batch([_copy_as(record, "m-9")], job="j2", provider="meridian"), store)
    return store, first.clusters[0], result


def test_a_record_matching_two_clusters_files_a_review_task():
    store, first_cluster, result = legacy_twin_review()
    assert result.counts == {"review": 1}
    (task,) = store.tasks.values()
    assert task.status == "open" and task.source == "meridian|m-9"
    assert {c["cluster_id"] for c in task.candidates} == {first_cluster, "legacy-twin"}
    assert all(c["evidence"] and c["reason"] for c in task.candidates)
    assert task.cluster_id in store.clusters  # the record stays findable while it waits


def test_a_clear_conflict_is_never_merged_even_with_shared_identifiers():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    record.remove_fields("250")
    record.add_ordered_field(
        Field(tag="250", indicators=Indicators(" ", " "), subfields=[Subfield("a", "1st ed.")])
    )
    record_filing.file_batch(_batch([record]), store)
    second = _copy_as(record, "m-2")  # same OCLC number and ISBN: a provider reused them
    second["250"]["a"] = "2nd ed."
    later = int(record["264"]["c"][:4]) + 6
    second["264"]["c"] = f"{later}."
    for f in second.get_fields("008"):
        f.data = f"{f.data[:7]}{later}{f.data[11:]}"
    result = record_filing.file_batch(_batch([second], job="j2", provider="meridian"), store)
    assert result.counts == {"review": 1}
    (task,) = store.tasks.values()
    conflicts = {e["feature"] for e in task.candidates[0]["evidence"] if e["conflict"]}
    assert {"edition", "year"} <= conflicts


def test_racing_workers_never_make_two_clusters_for_one_manifestation():
    store = MemoryCatalog()
    lock = threading.Lock()
    real_commit = store.commit

    def atomic_commit(change):
        with lock:
            real_commit(change)

    store.commit = atomic_commit
    books = list(synthetic_records(12, "harbor"))
    providers = ["p1", "p2", "p3", "p4"]
    errors = []

    def worker(provider):
        try:
            copies = [_copy_as(b, f"{provider}-{i}") for i, b in enumerate(books)]
            record_filing.file_batch(_batch(copies, job=f"job-{provider}", provider=provider), store)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(p,)) for p in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    live = [c for c in store.clusters.values() if c.status == "active"]
    by_title = {}
    for cluster in live:
        by_title.setdefault(cluster.title, []).append(cluster)
    assert len(live) + len(store.tasks) >= len(books)
    # Each book sits in one cluster holding all four providers' records, or a cataloger is asked.
    assert sum(len(c.sources) for c in live) == len(books) * len(providers)
    assert len(live) - len(store.tasks) <= len(books)


def test_a_lost_race_is_retried_against_the_winner():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    real_commit = store.commit
    calls = itertools.count()

    def racing_commit(change):
        if next(calls) == 0:
            # Another worker files the same record between our read and our write.
            store.commit = real_commit
            record_filing.file_batch(_batch([record], job="other"), store)
        return real_commit(change)

    store.commit = racing_commit
    result = record_filing.file_batch(_batch([record]), store)
    assert result.counts == {"unchanged": 1}
    assert len(store.clusters) == 1


def test_conflicts_that_never_settle_surface_as_errors():
    store = MemoryCatalog()

    def always_conflict(change):
        raise VersionConflict("busy")

    store.commit = always_conflict
    with pytest.raises(VersionConflict):
        record_filing.file_batch(_batch(list(synthetic_records(1, "harbor"))), store)


def test_a_match_key_too_common_to_identify_stops_growing_and_never_crowds_out_a_match():
    store = MemoryCatalog()
    (record,) = synthetic_records(1, "harbor")
    first = record_filing.file_batch(_batch([record]), store)
    (cluster_id,) = first.clusters
    # Every content key of the book is also held by as many (lower-numbered) clusters as allowed.
    content = [
        k for k in store.clusters[cluster_id].keys if not k.startswith(("isbn", "issn", "oclc", "lccn"))
    ]
    assert content, store.clusters[cluster_id].keys
    for key in content:
        entry = store.keys[key]
        entry.clusters = sorted({f"0000{n:04d}" for n in range(catalog.MAX_KEY_CLUSTERS)} | {cluster_id})
    copy = _copy_as(record, "m-1")
    second = record_filing.file_batch(_batch([copy], job="job2", provider="meridian"), store)
    assert second.counts == {"merged": 1} and second.clusters == [cluster_id]  # found by identifier
    # A new book sharing only the saturated keys creates its cluster without growing them.
    other = _copy_as(record, "m-2")
    other.remove_fields("020", "022", "035", "010")
    sizes = {k: len(store.keys[k].clusters) for k in content}
    third = record_filing.file_batch(_batch([other], job="job3", provider="meridian", start=2), store)
    assert third.counts["created"] + third.counts["merged"] + third.counts["review"] == 1
    assert {k: len(store.keys[k].clusters) for k in content} == sizes


def test_a_batch_reads_only_each_records_best_candidates_not_every_cluster_of_its_keys():
    store = MemoryCatalog()
    (record,) = synthetic_records(1, "harbor")
    (cluster_id,) = record_filing.file_batch(_batch([record]), store).clusters
    # Every content key of the book is also held by many other clusters, below the saturation cap.
    crowd = {f"0000{n:04d}" for n in range(catalog.MAX_KEY_CLUSTERS // 2)}
    for key in store.clusters[cluster_id].keys:
        if not key.startswith(("isbn", "issn", "oclc", "lccn")):
            store.keys[key].clusters = sorted(crowd | {cluster_id})
    asked: list[str] = []
    read_clusters = store.get_clusters
    store.get_clusters = lambda ids: asked.extend(ids) or read_clusters(ids)
    result = record_filing.file_batch(
        _batch([_copy_as(record, "m-1")], job="job2", provider="meridian"), store
    )
    assert result.counts == {"merged": 1} and result.clusters == [cluster_id]
    # The cluster sharing the identifier keys too ranks first; the crowd is cut at MAX_CANDIDATES.
    assert cluster_id in asked and len(set(asked)) <= catalog.MAX_CANDIDATES
