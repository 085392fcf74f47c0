import pytest

from netzone.completion import JobStep, rejects_key, report_key


@pytest.mark.parametrize(
    ("feed_key", "fmt", "report", "rejects"),
    [
        ("feeds/harbor/weekly.mrc", "iso2709", "reports/harbor/weekly.mrc.json", "rejects/harbor/weekly.mrc"),
        (
            "feeds/harbor/weekly.mrc.gz",
            "iso2709",
            "reports/harbor/weekly.mrc.gz.json",
            "rejects/harbor/weekly.mrc",
        ),
        (
            "feeds/meridian/batch one.xml",
            "marcxml",
            "reports/meridian/batch one.xml.json",
            "rejects/meridian/batch one.xml",
        ),
        (
            "feeds/natlib/2026/11.dat",
            "iso2709",
            "reports/natlib/2026/11.dat.json",
            "rejects/natlib/2026/11.dat.mrc",
        ),
        ("feeds/x/lines.json", "marc-json", "reports/x/lines.json.json", "rejects/x/lines.json.jsonl"),
    ],
)
def test_reports_and_rejects_sit_beside_the_feed_under_their_own_prefixes(feed_key, fmt, report, rejects):
    assert report_key(feed_key) == report
    assert rejects_key(feed_key, fmt) == rejects
    # Neither lands under feeds/, so writing them never starts another ingest.
    assert not report.startswith("feeds/") and not rejects.startswith("feeds/")


def test_job_steps_round_trip_as_queue_messages():
    step = JobStep(kind="withdraw_absent", job_id="j1", after='{"pk": "SRC#a#1"}', page=3)
    assert JobStep.model_validate_json(step.to_message()) == step
    assert JobStep(kind="finish", job_id="j1").to_message() == '{"kind":"finish","job_id":"j1","page":0}'


def _meridian(count):
    from demo.feeds import synthetic_records
    from netzone import marc
    from netzone.batches import BatchRecord

    return [
        BatchRecord(position=n, source_id=r["001"].data, marc=marc.record_to_marc_json(r))
        for n, r in enumerate(synthetic_records(count, "meridian"), 1)
    ]


def _full(job_id, day, items):
    from netzone.batches import RecordBatch, seen_mark
    from netzone.jobs import FeedRef

    feed = FeedRef(
        bucket="b",
        key=f"feeds/meridian/{job_id}.mrc",
        etag=job_id,
        dropped_at=f"2026-11-{day:02d}T00:00:00+00:00",
    )
    mark = seen_mark(job_id, feed)
    return RecordBatch(
        job_id=job_id, provider="meridian", seq=0, records=items, feed_mode="full", seen_mark=mark
    ), mark


def test_a_full_replacement_sweep_keeps_what_the_file_held_even_if_its_index_lagged():
    from fakes import MemoryCatalog
    from netzone import record_filing
    from netzone.batches import RecordBatch

    store = MemoryCatalog()
    filer = record_filing.Filer(store)
    items = _meridian(2)
    filer.file_batch(RecordBatch(job_id="a", provider="meridian", seq=0, records=items))
    # Job b's file holds the first record unchanged: it is marked seen (and its version moves).
    before = store.sources[f"meridian|{items[0].source_id}"].version
    batch, mark = _full("b", 2, items[:1])
    filer.file_batch(batch)
    held = store.sources[f"meridian|{items[0].source_id}"]
    assert held.seen_mark == mark and held.version == before + 1
    # A stale index offers both to b's sweep: the one b saw stays, the other goes.
    assert filer.withdraw_source("meridian", items[0].source_id, "b", unless_seen=mark) is False
    assert filer.withdraw_source("meridian", items[1].source_id, "b", unless_seen=mark) is True
    assert not held.withdrawn and store.sources[f"meridian|{items[1].source_id}"].withdrawn


def test_two_full_files_in_flight_the_older_sweep_keeps_what_the_newer_file_holds():
    from fakes import MemoryCatalog
    from netzone import record_filing

    store = MemoryCatalog()
    filer = record_filing.Filer(store)
    items = _meridian(4)
    older, older_mark = _full("older", 1, items[:3])  # records 1-3
    newer, newer_mark = _full("newer", 2, items[1:])  # records 2-4: record 1 is gone
    filer.file_batch(newer.model_copy(update={"records": items[1:2]}))  # the newer file starts first
    filer.file_batch(older)
    filer.file_batch(newer.model_copy(update={"records": items[2:], "seq": 1}))
    marks = {i.source_id: store.sources[f"meridian|{i.source_id}"].seen_mark for i in items}
    # Record 2 was filed by the newer file first: the older one's pass did not move its mark back.
    assert [marks[i.source_id] for i in items] == [older_mark, newer_mark, newer_mark, newer_mark]

    def sweep(mark, job):
        found, _ = store.unseen("meridian", mark, None, 100)
        return [sid for _, sid in found if filer.withdraw_source("meridian", sid, job, unless_seen=mark)]

    assert sweep(older_mark, "older") == []  # everything is the older file's or newer
    assert sweep(newer_mark, "newer") == [items[0].source_id]  # only the newer file's absence goes
    assert [store.sources[f"meridian|{i.source_id}"].withdrawn for i in items] == [True, False, False, False]


def test_a_rejected_row_keeps_its_portfolios_and_a_rejected_record_its_source():
    from netzone.completion import _held_by_reject

    rejected = {"openlink-ebook-00007", "m-42"}
    assert _held_by_reject("portfolio", "Ebooks|openlink-ebook-00007|2020-01-01", rejected)
    assert not _held_by_reject("portfolio", "Ebooks|openlink-ebook-00008|", rejected)
    assert _held_by_reject("source", "m-42", rejected) and not _held_by_reject("source", "m-43", rejected)


def test_seen_marks_order_files_and_a_batch_without_one_carries_its_jobs_undated_mark():
    from netzone.batches import RecordBatch, latest_mark, newer_mark, seen_mark
    from netzone.jobs import FeedRef

    early = seen_mark(
        "zz", FeedRef(bucket="b", key="k", etag="1", dropped_at="2026-11-01T00:00:00.000000+00:00")
    )
    late = seen_mark(
        "aa", FeedRef(bucket="b", key="k", etag="2", dropped_at="2026-11-02T00:00:00.000000+00:00")
    )
    assert newer_mark(early, late) and not newer_mark(late, early) and not newer_mark(late, late)
    assert newer_mark(None, early) and newer_mark("f00dbeefcafe12345678", early)  # a bare job id: older
    assert latest_mark("f00dbeefcafe12345678", early) == early and latest_mark(late, early) == late
    batch = RecordBatch.model_validate_json(
        RecordBatch(job_id="j9", provider="p", seq=0, records=[]).to_message()
    )
    assert batch.seen_mark == "#j9" and newer_mark(batch.seen_mark, early)
