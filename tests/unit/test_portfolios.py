"""KBART rows as electronic portfolios: detection, ingest into batches, filing, withdrawal (no AWS)."""

import gzip
import io
import itertools
from collections import Counter

import pytest

from demo.feeds import kbart_row, synthetic_kbart_rows, synthetic_records
from fakes import ListSink, MemoryCatalog, MemoryLedger, MemoryPortfolios, MemoryProviders
from netzone import ingest, kbart, kbart_ingest, marc, record_filing
from netzone.batches import PortfolioBatch, RecordBatch
from netzone.jobs import FeedRef
from netzone.portfolio_filing import PortfolioFiler, choose_cluster

FILE = "OpenLink_NorthConsortium_EbooksAndJournals_2026-01-15.txt"


_drops = itertools.count(1)


def _feed(name=FILE, provider="openlink", etag="e1"):
    """A dropped file; each drop later than the one before, as S3 event times are."""
    dropped_at = f"2026-11-01T00:00:{next(_drops):02d}+00:00"
    return FeedRef(bucket="b", key=f"feeds/{provider}/{name}", etag=etag, dropped_at=dropped_at)


def _marc_batch(records, provider="harbor"):
    return RecordBatch(
        job_id="marc-job",
        provider=provider,
        seq=0,
        records=[
            {"position": i, "source_id": r["001"].data, "marc": marc.record_to_marc_json(r)}
            for i, r in enumerate(records, start=1)
        ],
    )


def _kbart_bytes(rows):
    header = "\t".join(kbart.COLUMNS)
    return (header + "\n" + "".join(kbart_row(**r) + "\n" for r in rows)).encode()


class World:
    """A catalog holding some MARC records, and the portfolio filer beside it."""

    def __init__(self, marc_records=()):
        self.catalog = MemoryCatalog()
        self.portfolios = MemoryPortfolios()
        self.filer = PortfolioFiler(self.catalog, self.portfolios)
        if marc_records:
            record_filing.file_batch(_marc_batch(list(marc_records)), self.catalog)

    def ingest(self, data: bytes, feed=None, **options):
        sink, ledger = ListSink(), MemoryLedger()
        summary = ingest.ingest(
            io.BytesIO(data),
            feed or _feed(),
            sink=sink,
            ledger=ledger,
            providers=MemoryProviders(everyone=True),
            **options,
        )
        return summary, sink.batches, ledger

    def file(self, batches, mode=None):
        counts = Counter()
        for batch in batches:
            if mode:
                batch = batch.model_copy(update={"feed_mode": mode})
            counts.update(self.filer.file_batch(batch).counts)
        return counts

    def cluster_of(self, record):
        return self.catalog.sources[f"harbor|{record['001'].data}"].cluster_id


# ---------------------------------------------------------------- detection and ingest


def test_kbart_is_detected_from_content_plain_or_gzip_whatever_the_name():
    rows = list(synthetic_kbart_rows([], 3))
    for data in (_kbart_bytes(rows), gzip.compress(_kbart_bytes(rows))):
        summary, batches, ledger = World().ingest(data, _feed(name="delivery.bin"))
        assert summary.format == "kbart" and summary.records_read == 3 and summary.sent == 3
        assert all(isinstance(b, PortfolioBatch) for b in batches)
        assert sum(len(b.rows) for b in batches) == 3
        (finished,) = ledger.finished.values()
        assert finished == (3, 0, "kbart")
    fmt, _ = marc.open_feed(io.BytesIO(b"\xef\xbb\xbf" + _kbart_bytes(rows)))
    assert fmt == "kbart"


def test_rows_are_batched_in_bounded_messages_with_the_package_from_the_file_name():
    rows = list(synthetic_kbart_rows([], 30))
    _, batches, _ = World().ingest(_kbart_bytes(rows), max_records=7)
    assert [len(b.rows) for b in batches] == [7, 7, 7, 7, 2]
    assert [b.seq for b in batches] == [0, 1, 2, 3, 4]
    assert [r.position for b in batches for r in b.rows] == list(range(1, 31))
    portfolio = batches[0].rows[0].to_portfolio()
    assert portfolio.package == "EbooksAndJournals" and portfolio.provider == "openlink"
    assert batches[0].rows[0].portfolio_id.startswith("EbooksAndJournals|openlink-journal-")


def test_a_package_name_column_wins_over_the_file_name():
    header = "\t".join(kbart.COLUMNS) + "\tpackage_name\n"
    row = kbart_row(**next(synthetic_kbart_rows([], 1))) + "\tBackfiles 2020\n"
    _, (batch,), _ = World().ingest((header + row).encode())
    assert batch.rows[0].to_portfolio().package == "Backfiles 2020"


def test_rejected_rows_reach_the_ledger_with_position_title_id_and_reason():
    good = list(synthetic_kbart_rows([], 2))
    bad_date = dict(good[0], title_id="bad-date", date_first_issue_online="2020-13")
    no_title = dict(good[1], title_id="no-title", publication_title="")
    warned = dict(good[1], title_id="warned", num_first_vol_online="vol. 3", publication_type="serial")
    data = _kbart_bytes([good[0], bad_date, good[1], no_title, warned]) + b"short\trow\n"
    summary, batches, ledger = World().ingest(data)
    assert summary.records_read == 6 and summary.rejected == 3 and summary.sent == 3
    rejects = ledger.rejects[summary.job_id]
    assert sorted(rejects) == [2, 4, 6]
    assert rejects[2].source_id == "bad-date" and "date_first_issue_online" in rejects[2].reason
    assert rejects[4].source_id == "no-title" and "publication_title" in rejects[4].reason
    assert rejects[6].source_id is None and "columns" in rejects[6].reason
    assert ledger.finished[summary.job_id] == (6, 3, "kbart")
    assert list(ledger.warnings[summary.job_id]) == [5]
    assert sum(len(b.rows) for b in batches) == summary.records_read - summary.rejected


def test_portfolio_batch_round_trips_through_the_wire_format_and_records_still_do():
    _, (batch,), _ = World().ingest(_kbart_bytes(list(synthetic_kbart_rows([], 2))))
    again = PortfolioBatch.model_validate_json(batch.to_message())
    assert again == batch and again.kind == "portfolios"
    assert [r.to_portfolio() for r in again.rows] == [r.to_portfolio() for r in batch.rows]
    with pytest.raises(ValueError):
        PortfolioBatch.model_validate_json(_marc_batch(list(synthetic_records(1, "harbor"))).to_message())


# ---------------------------------------------------------------- filing


def test_rows_with_a_records_isbn_attach_to_its_network_record_and_others_become_brief_records():
    records = list(synthetic_records(4, "harbor"))
    world = World(records)
    clusters_before = set(world.catalog.clusters)
    rows = list(synthetic_kbart_rows(records[:3], 4))
    _, batches, _ = world.ingest(_kbart_bytes(rows))
    counts = world.file(batches)
    assert counts == {"merged": 3, "created": 4}
    for record, row in zip(records[:3], rows, strict=False):
        cluster_id = world.cluster_of(record)
        (linked,) = world.portfolios.for_cluster(cluster_id)
        assert linked.portfolio["title_url"] == row["title_url"]
        assert linked.brief_source is None
    new = set(world.catalog.clusters) - clusters_before
    assert len(new) == 4
    for cluster_id in new:
        cluster = world.catalog.clusters[cluster_id]
        (source,) = cluster.sources
        assert source.startswith("openlink|openlink-")
        (linked,) = world.portfolios.for_cluster(cluster_id)
        assert linked.brief_source == source.split("|", 1)[1]
        assert cluster.record["856"]["u"] == linked.portfolio["title_url"]
    views = [p.view() for c in world.portfolios.links for p in world.portfolios.for_cluster(c)]
    assert sum(v["open_access"] for v in views) == sum(r["access_type"] == "F" for r in rows)


def test_a_resent_file_is_unchanged_and_a_full_feed_only_marks_rows_seen():
    records = list(synthetic_records(2, "harbor"))
    world = World(records)
    data = _kbart_bytes(list(synthetic_kbart_rows(records, 2)))
    _, first, _ = world.ingest(data)
    world.file(first)
    saves, commits = world.portfolios.saves, world.catalog.commits
    _, second, _ = world.ingest(data, _feed(etag="e2"))
    assert second[0].job_id != first[0].job_id
    assert world.file(second, mode="full") == {"unchanged": 4}
    assert (world.portfolios.saves, world.catalog.commits) == (saves, commits)
    assert world.portfolios.seen_updates == 4
    assert {p.seen_mark for p in world.portfolios.items.values()} == {second[0].seen_mark}


def test_a_changed_row_is_rewritten_in_place():
    records = list(synthetic_records(1, "harbor"))
    world = World(records)
    (row,) = synthetic_kbart_rows(records, 0)
    world.file(world.ingest(_kbart_bytes([row]))[1])
    changed = dict(row, title_url="https://books.openlink.example.org/moved")
    assert world.file(world.ingest(_kbart_bytes([changed]), _feed(etag="e2"))[1]) == {"merged": 1}
    (linked,) = world.portfolios.for_cluster(world.cluster_of(records[0]))
    assert linked.view()["url"].endswith("/moved") and linked.version == 2


def test_a_redelivered_batch_reports_the_same_outcomes_without_writing():
    records = list(synthetic_records(2, "harbor"))
    world = World(records)
    _, (batch,), _ = world.ingest(_kbart_bytes(list(synthetic_kbart_rows(records, 3))))
    first = world.filer.file_batch(batch)
    saves, commits = world.portfolios.saves, world.catalog.commits
    again = world.filer.file_batch(PortfolioBatch.model_validate_json(batch.to_message()))
    assert again.counts == first.counts == Counter({"merged": 2, "created": 3})
    assert again.clusters == first.clusters
    assert (world.portfolios.saves, world.catalog.commits) == (saves, commits)


def test_the_same_title_in_two_packages_makes_one_brief_record_with_two_portfolios():
    (row,) = synthetic_kbart_rows([], 1)
    world = World()
    world.file(world.ingest(_kbart_bytes([row]), _feed(name="OpenLink_Global_Journals_2026-01-15.txt"))[1])
    second = world.ingest(_kbart_bytes([row]), _feed(name="OpenLink_Global_Backfiles_2026-01-15.txt"))[1]
    assert world.file(second) == {"merged": 1}
    (cluster_id,) = world.catalog.clusters
    packages = sorted(p.view()["package"] for p in world.portfolios.for_cluster(cluster_id))
    assert packages == ["Backfiles", "Journals"]


def test_a_row_without_identifiers_finds_its_brief_record_again():
    row = dict(next(synthetic_kbart_rows([], 1)), print_identifier="", online_identifier="")
    world = World()
    assert world.file(world.ingest(_kbart_bytes([row]))[1]) == {"created": 1}
    assert world.file(world.ingest(_kbart_bytes([row]), _feed(etag="e2"))[1]) == {"unchanged": 1}
    assert len(world.catalog.clusters) == 1


def test_the_cluster_sharing_most_identifiers_wins_then_online_then_lowest_id():
    row = next(synthetic_kbart_rows(list(synthetic_records(1, "harbor")), 0))
    portfolio = next(kbart.read_kbart(io.BytesIO(_kbart_bytes([row])))).portfolio
    print_key, online_key = portfolio.match_keys()
    assert choose_cluster(portfolio, {}) is None
    assert choose_cluster(portfolio, {print_key: ["a"], online_key: ["b"]}) == "b"
    assert choose_cluster(portfolio, {print_key: ["a", "c"], online_key: ["c"]}) == "c"
    assert choose_cluster(portfolio, {print_key: ["b", "a"]}) == "a"


def test_a_row_that_cannot_be_read_back_is_rejected_with_the_reason():
    _, (batch,), _ = World().ingest(_kbart_bytes(list(synthetic_kbart_rows([], 2))))
    batch.rows[1].portfolio["publication_type"] = None
    batch.rows[1].portfolio["unexpected"] = "column"
    result = World().filer.file_batch(batch)
    assert result.counts == {"created": 1, "rejected": 1}
    (reject,) = result.rejects
    assert reject.position == 2 and reject.source_id == batch.rows[1].portfolio_id
    assert "could not be read" in reject.reason


# ---------------------------------------------------------------- withdrawal


def test_withdrawing_an_attached_portfolio_leaves_the_network_record():
    records = list(synthetic_records(1, "harbor"))
    world = World(records)
    _, (batch,), _ = world.ingest(_kbart_bytes(list(synthetic_kbart_rows(records, 0))))
    world.file([batch])
    cluster_id = world.cluster_of(records[0])
    portfolio_id = batch.rows[0].portfolio_id
    assert world.filer.withdraw("openlink", portfolio_id, "sweep-1") is True
    assert world.portfolios.for_cluster(cluster_id) == []
    stored = world.portfolios.items[f"openlink|{portfolio_id}"]
    assert stored.withdrawn and stored.last_outcome == "withdrawn"
    assert world.catalog.clusters[cluster_id].status == "active"
    assert world.filer.withdraw("openlink", portfolio_id, "sweep-1") is True  # the same step, retried
    assert world.filer.withdraw("openlink", portfolio_id, "sweep-2") is False
    assert world.filer.withdraw("openlink", "no such portfolio", "sweep-1") is False


def test_withdrawing_the_only_portfolio_of_a_brief_record_withdraws_the_record():
    world = World()
    rows = list(synthetic_kbart_rows([], 1))
    _, (batch,), _ = world.ingest(_kbart_bytes(rows))
    world.file([batch])
    (cluster_id,) = world.catalog.clusters
    assert world.filer.withdraw("openlink", batch.rows[0].portfolio_id, "sweep-1")
    assert world.catalog.clusters[cluster_id].status == "withdrawn"
    (source,) = world.catalog.sources.values()
    assert source.withdrawn and source.last_job == "sweep-1"
    # The title comes back in a later file: a new brief record, counted as created.
    assert world.file(world.ingest(_kbart_bytes(rows), _feed(etag="e2"))[1]) == {"created": 1}


def test_a_brief_record_another_portfolio_still_uses_is_kept():
    (row,) = synthetic_kbart_rows([], 1)
    world = World()
    first = world.ingest(_kbart_bytes([row]), _feed(name="OpenLink_Global_Journals_2026-01-15.txt"))[1]
    world.file(first)
    world.file(world.ingest(_kbart_bytes([row]), _feed(name="OpenLink_Global_Backfiles_2026-01-15.txt"))[1])
    assert world.filer.withdraw("openlink", first[0].rows[0].portfolio_id, "sweep-1")
    (cluster,) = world.catalog.clusters.values()
    assert cluster.status == "active" and len(world.portfolios.for_cluster(cluster.cluster_id)) == 1


def test_filer_withdraw_source_is_idempotent():
    records = list(synthetic_records(1, "harbor"))
    world = World(records)
    filer = record_filing.Filer(world.catalog)
    assert filer.withdraw_source("harbor", records[0]["001"].data, "sweep-1") is True
    assert world.catalog.clusters[world.cluster_of(records[0])].status == "withdrawn"
    commits_after_first = world.catalog.commits
    # A retried step counts its own withdrawal again (exactly once per step); others do not.
    assert filer.withdraw_source("harbor", records[0]["001"].data, "sweep-1") is True
    assert filer.withdraw_source("harbor", records[0]["001"].data, "sweep-2") is False
    assert world.catalog.commits == commits_after_first
    assert filer.withdraw_source("harbor", "absent", "sweep-1") is False


# ---------------------------------------------------------------- the corpus, if it has KBART


def test_kbart_files_in_the_shared_corpus_are_read_and_filed_with_every_row_counted(corpus):
    found = [
        p
        for p in sorted(corpus.rglob("*"))
        if p.is_file() and p.stat().st_size < 20_000_000 and marc.is_kbart(p.open("rb").read(4096))
    ]
    if not found:
        pytest.skip(f"no KBART title list (header row starting publication_title) under {corpus}")
    for path in found[:3]:
        world = World()
        summary, batches, _ = world.ingest(path.read_bytes(), _feed(name=path.name))
        counts = world.file(batches)
        assert sum(counts.values()) + summary.rejected == summary.records_read


def test_portfolio_feed_ids_stay_within_the_limit():
    row = dict(next(synthetic_kbart_rows([], 1)), title_id="x" * 200)
    summary, _, ledger = World().ingest(_kbart_bytes([row]), _feed(name=("P" * 250) + ".txt"))
    assert summary.rejected == 1
    (reject,) = ledger.rejects[summary.job_id].values()
    assert str(kbart_ingest.MAX_PORTFOLIO_ID) in reject.reason


class _StopsAfterBriefRecords(MemoryPortfolios):
    """A delivery that dies after the brief records were filed, before any portfolio is written."""

    def save(self, item, expected, previous_cluster):
        raise RuntimeError("Lambda timed out")


def test_a_batch_redelivered_after_its_brief_records_were_filed_still_counts_them_created():
    world = World()
    _, (batch,), _ = world.ingest(_kbart_bytes(list(synthetic_kbart_rows([], 2))))
    with pytest.raises(RuntimeError):
        PortfolioFiler(world.catalog, _StopsAfterBriefRecords()).file_batch(batch)
    commits = world.catalog.commits
    assert commits == 1  # the first row's brief record
    result = world.filer.file_batch(batch)
    assert result.counts == {"created": 2}
    assert world.catalog.commits == commits + 1  # the second brief record only
    assert all(world.portfolios.for_cluster(c) for c in result.clusters)


def test_feed_check_counts_kbart_rows_like_ingest():
    rows = list(synthetic_kbart_rows([], 3))
    bad = dict(rows[0], title_id="bad", access_type="X")
    report = ingest.check(io.BytesIO(gzip.compress(_kbart_bytes([*rows, bad]))))
    assert report.format == "kbart" and report.records_read == 4
    assert (report.accepted, report.rejected, report.exit_status) == (3, 1, 1)
    assert report.rejects[0].source_id == "bad" and "access_type" in report.rejects[0].reason
    header_only = ingest.check(io.BytesIO(_kbart_bytes([])))
    assert header_only.exit_status == 2 and "no rows" in header_only.error
    broken = ingest.check(io.BytesIO(b"publication_title\ttitle_id\n"))
    assert broken.exit_status == 2 and "KBART" in broken.error


def test_brief_records_go_with_their_portfolios_not_with_the_providers_marc_files():
    world = World()
    _, (batch,), _ = world.ingest(_kbart_bytes(list(synthetic_kbart_rows([], 1))))
    world.file([batch])
    (brief,) = world.catalog.sources.values()
    assert brief.brief
    (record,) = synthetic_records(1, "openlink")
    record_filing.Filer(world.catalog).file_batch(_marc_batch([record], provider="openlink"))
    # A full-replacement MARC file of the provider sweeps its MARC records only.
    found, _ = world.catalog.unseen("openlink", "9999", None, 100)
    assert found == [("source", record["001"].data)]
    assert not world.catalog.sources[f"openlink|{record['001'].data}"].brief


@pytest.mark.parametrize("compressed", [False, True])
def test_a_paused_kbart_ingest_continues_from_its_checkpoint_as_if_never_paused(compressed):
    rows = list(synthetic_kbart_rows([], 30))
    rows[4] = dict(rows[4], title_id="bad-date", date_first_issue_online="2020-13")
    rows[17] = dict(rows[17], access_type="X")
    data = _kbart_bytes(rows)
    data = gzip.compress(data) if compressed else data
    world = World()
    _, whole, whole_ledger = world.ingest(data, max_records=4)

    sink, ledger, resume, runs = ListSink(), MemoryLedger(), None, 0
    while True:
        runs += 1
        summary = ingest.ingest(
            io.BytesIO(data),  # a KBART list is re-read from the start and the rows read skipped
            _feed(etag="paused"),
            sink=sink,
            ledger=ledger,
            providers=MemoryProviders(everyone=True),
            max_records=4,
            resume=resume,
            should_pause=lambda: True,  # asked at batch ends, after some progress: pause at each
        )
        if summary.checkpoint is None:
            break
        resume = ingest.Checkpoint.model_validate_json(summary.checkpoint.to_message())  # via the queue
        assert resume.offset is None
    assert runs > 3
    # Paused only where a batch ends anyway: the same batches, numbered alike, as one read.
    assert [[(r.position, r.portfolio_id) for r in b.rows] for b in sink.batches] == [
        [(r.position, r.portfolio_id) for r in b.rows] for b in whole
    ]
    assert [b.seq for b in sink.batches] == list(range(len(whole)))
    # Each run is handed a later drop time; the continuation keeps the file's own (one mark).
    assert len({b.seen_mark for b in sink.batches}) == 1
    (job_id,) = ledger.finished
    (whole_job,) = whole_ledger.finished
    assert ledger.finished[job_id] == whole_ledger.finished[whole_job]  # read once, counted once
    assert (
        sorted(ledger.rejects[job_id]) == sorted(whole_ledger.rejects[whole_job])
        and len(ledger.rejects[job_id]) == 2
    )
