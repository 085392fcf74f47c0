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


def test_a_full_replacement_sweep_keeps_what_the_file_held_even_if_its_index_lagged():
    from demo.feeds import synthetic_records
    from fakes import MemoryCatalog
    from netzone import catalog, marc
    from netzone.feeds import BatchRecord, RecordBatch

    store = MemoryCatalog()
    filer = catalog.Filer(store)
    records = list(synthetic_records(2, "meridian"))
    items = [
        BatchRecord(position=n, source_id=r["001"].data, marc=marc.record_to_marc_json(r))
        for n, r in enumerate(records, 1)
    ]
    filer.file_batch(RecordBatch(job_id="a", provider="meridian", seq=0, records=items))
    # Job b's file holds the first record unchanged: it is marked seen (and its version moves).
    before = store.sources[f"meridian|{items[0].source_id}"].version
    filer.file_batch(RecordBatch(job_id="b", provider="meridian", seq=0, records=items[:1], feed_mode="full"))
    held = store.sources[f"meridian|{items[0].source_id}"]
    assert held.seen_job == "b" and held.version == before + 1
    # A stale index offers both to b's sweep: the one b saw stays, the other goes.
    assert filer.withdraw_source("meridian", items[0].source_id, "b", unless_seen=True) is False
    assert filer.withdraw_source("meridian", items[1].source_id, "b", unless_seen=True) is True
    assert not held.withdrawn and store.sources[f"meridian|{items[1].source_id}"].withdrawn


def test_a_rejected_row_keeps_its_portfolios_and_a_rejected_record_its_source():
    from netzone.completion import _held_by_reject

    rejected = {"openlink-ebook-00007", "m-42"}
    assert _held_by_reject("portfolio", "Ebooks|openlink-ebook-00007|2020-01-01", rejected)
    assert not _held_by_reject("portfolio", "Ebooks|openlink-ebook-00008|", rejected)
    assert _held_by_reject("source", "m-42", rejected) and not _held_by_reject("source", "m-43", rejected)
