import pytest
from test_catalog import _batch, _copy_as, legacy_twin_review

from demo.feeds import synthetic_records
from fakes import MemoryCatalog
from netzone import record_filing
from netzone.access import Principal
from netzone.errors import Conflict, Denied, Invalid, VersionConflict
from netzone.review import Curator

CATALOGER = Principal("nz-cat", frozenset({"cataloger"}), None)
MEMBER_CATALOGER = Principal("lku-cat", frozenset({"cataloger"}), "lku")


def _review_setup():
    store, first_cluster, _ = legacy_twin_review()
    (task,) = store.tasks.values()
    return store, first_cluster, task


def test_accept_folds_the_records_cluster_into_the_chosen_candidate():
    store, target, task = _review_setup()
    curator = Curator(store)
    decided = curator.accept(CATALOGER, task.task_id, target, "same ISBN, title and pagination")
    assert decided.status == "accepted" and decided.decided_by == "nz-cat"
    assert store.clusters[target].sources == sorted(
        [next(s for s in store.clusters[target].sources), "meridian|m-9"]
    )
    folded = store.clusters[task.cluster_id]
    assert folded.status == "merged" and folded.merged_into == target
    assert store.sources["meridian|m-9"].cluster_id == target
    assert all(task.cluster_id not in e.clusters for e in store.keys.values())
    (entry,) = [a for a in store.audit if a["action"] == "review-accept"]
    assert entry["reason"] == "same ISBN, title and pagination" and entry["actor"] == "nz-cat"
    with pytest.raises(Conflict) as again:
        curator.accept(CATALOGER, task.task_id, target, "twice")
    assert again.value.code == "already-decided"


def test_reject_keeps_the_pair_apart_and_is_not_asked_again():
    store, _, task = _review_setup()
    Curator(store).reject(CATALOGER, task.task_id, "different printings")
    source = store.sources["meridian|m-9"]
    assert "legacy|1" in source.apart
    changed = source.record
    changed["245"]["b"] = "a corrected subtitle /"
    result = record_filing.file_batch(_batch([changed], job="j3", provider="meridian"), store)
    assert result.counts == {"merged": 1}  # updated in place, no new question
    assert [t.status for t in store.tasks.values()] == ["rejected"]


def test_split_unmerges_and_recomputes_both_sides():
    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    first = record_filing.file_batch(_batch([record]), store)
    record_filing.file_batch(_batch([_copy_as(record, "m-1")], job="j2", provider="meridian"), store)
    cluster_id = first.clusters[0]
    assert len(store.clusters[cluster_id].sources) == 2
    _, new = Curator(store).split(CATALOGER, cluster_id, "meridian|m-1", "a different printing")
    assert store.clusters[cluster_id].sources == [f"harbor|{record['001'].data}"]
    assert store.clusters[new.cluster_id].sources == ["meridian|m-1"]
    assert store.sources["meridian|m-1"].cluster_id == new.cluster_id
    assert {f["a"] for f in store.clusters[new.cluster_id].record.get_fields("035")} >= {"(meridian)m-1"}
    for key in store.sources["meridian|m-1"].keys:
        assert new.cluster_id in store.keys[key].clusters
    assert any(a["action"] == "split" and a["object_id"] == cluster_id for a in store.audit)
    # Re-sending the split record does not pull it back in.
    again = _copy_as(record, "m-1")
    again["245"]["c"] = "Revised statement."
    result = record_filing.file_batch(_batch([again], job="j3", provider="meridian"), store)
    assert result.counts == {"merged": 1} and store.sources["meridian|m-1"].cluster_id == new.cluster_id
    with pytest.raises(Invalid) as single:
        Curator(store).split(CATALOGER, new.cluster_id, "meridian|m-1", "again")
    assert single.value.code == "single-source"


def test_only_network_catalogers_decide():
    store, target, task = _review_setup()
    with pytest.raises(Denied) as denied:
        Curator(store).accept(MEMBER_CATALOGER, task.task_id, target, "mine")
    assert denied.value.code == "forbidden"
    with pytest.raises(Invalid) as wrong:
        Curator(store).accept(CATALOGER, task.task_id, "not-a-candidate", "oops")
    assert wrong.value.code == "not-a-candidate"


def test_accepting_a_match_moves_the_folded_clusters_portfolios_to_the_chosen_cluster():
    from fakes import MemoryPortfolios
    from netzone.portfolio_filing import PortfolioItem

    store, target, task = _review_setup()
    portfolios = MemoryPortfolios()
    for title, cluster_id in (("ebook-1", task.cluster_id), ("ebook-2", task.cluster_id), ("other", target)):
        item = PortfolioItem("openlink", f"Ebooks|{title}|", cluster_id, {"package": "Ebooks"}, "h")
        portfolios.save(item, None, None)
    # A portfolio that moved while the decision was made is moved by a retry (version conflict).
    real_save, conflicts = portfolios.save, iter([True])

    def save_once_stale(item, expected, previous):
        if item.source_id == "Ebooks|ebook-2|" and next(conflicts, False):
            raise VersionConflict(item.key)
        real_save(item, expected, previous)

    portfolios.save = save_once_stale
    Curator(store, portfolios=portfolios).accept(CATALOGER, task.task_id, target, "same book")
    assert portfolios.for_cluster(task.cluster_id) == []
    assert sorted(p.source_id for p in portfolios.for_cluster(target)) == [
        "Ebooks|ebook-1|",
        "Ebooks|ebook-2|",
        "Ebooks|other|",
    ]
    assert all(p.cluster_id == target for p in portfolios.items.values())


def test_splitting_a_brief_record_out_takes_the_portfolios_that_made_it():
    from fakes import MemoryPortfolios
    from netzone.portfolio_filing import PortfolioItem

    store = MemoryCatalog()
    record = next(synthetic_records(1, "harbor"))
    (cluster_id,) = record_filing.file_batch(_batch([record]), store).clusters
    record_filing.file_batch(_batch([_copy_as(record, "t-1")], job="j2", provider="openlink"), store)
    portfolios = MemoryPortfolios()
    made_it = PortfolioItem("openlink", "Ebooks|t-1|", cluster_id, {}, "h", brief_source="t-1")
    attached = PortfolioItem("openlink", "Ebooks|isbn-match|", cluster_id, {}, "h")  # found by ISBN
    for item in (made_it, attached):
        portfolios.save(item, None, None)
    _, new = Curator(store, portfolios=portfolios).split(CATALOGER, cluster_id, "openlink|t-1", "other title")
    assert [p.source_id for p in portfolios.for_cluster(new.cluster_id)] == ["Ebooks|t-1|"]
    assert [p.source_id for p in portfolios.for_cluster(cluster_id)] == ["Ebooks|isbn-match|"]
