import io

import pytest

from demo.feeds import synthetic_records, write_iso2709, write_mixed_iso2709
from fakes import ListSink, MemoryLedger
from netzone import feeds
from netzone.feeds import FeedRef, RecordBatch


def _feed(key="feeds/harbor/2026-11.mrc", etag='"abc"'):
    return FeedRef(bucket="nz-feeds", key=key, etag=etag)


def test_job_id_is_stable_per_object_version_and_changes_with_it():
    a = feeds.job_id_for("b", "feeds/harbor/x.mrc", '"etag1"')
    assert a == feeds.job_id_for("b", "feeds/harbor/x.mrc", "etag1")  # quotes are not part of the ETag
    assert a != feeds.job_id_for("b", "feeds/harbor/x.mrc", '"etag2"')
    assert a != feeds.job_id_for("b", "feeds/meridian/x.mrc", '"etag1"')


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("incoming/x.mrc", "feeds/<provider>/<file>"),
        ("feeds/Harbor Books/x.mrc", "provider code"),
        ("feeds/x.mrc", "feeds/"),
    ],
)
def test_feed_keys_name_their_provider(key, message):
    with pytest.raises(feeds.FeedError, match=message):
        feeds.provider_of(key)


def test_every_record_of_a_mixed_feed_is_sent_or_rejected_with_a_reason(tmp_path):
    path = tmp_path / "mixed.mrc"
    info = write_mixed_iso2709(path, 40, provider="harbor")
    sink, ledger = ListSink(), MemoryLedger()
    summary = feeds.ingest(io.BytesIO(path.read_bytes()), _feed(), sink=sink, ledger=ledger, max_records=7)

    total = 40 + len(info["malformed"])
    assert summary.records_read == total
    assert summary.sent == 40 and summary.rejected == len(info["malformed"])
    sent_positions = [r.position for b in sink.batches for r in b.records]
    rejects = ledger.rejects[summary.job_id]
    assert sorted(sent_positions + list(rejects)) == list(range(1, total + 1))
    for position, fragment in info["malformed"]:
        assert fragment in rejects[position].reason
    assert ledger.finished[summary.job_id] == (total, len(info["malformed"]), "iso2709")
    # Batches are numbered in order and respect the record limit.
    assert [b.seq for b in sink.batches] == list(range(len(sink.batches)))
    assert max(len(b.records) for b in sink.batches) == 7


def test_batches_also_respect_a_byte_budget(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(60, "harbor"))
    sink = ListSink()
    feeds.ingest(
        io.BytesIO(path.read_bytes()),
        _feed(),
        sink=sink,
        ledger=MemoryLedger(),
        max_records=500,
        max_bytes=10_000,
    )
    assert len(sink.batches) > 1
    assert all(len(b.to_message()) < 20_000 for b in sink.batches)


def test_unknown_format_fails_the_job_with_the_reason():
    ledger = MemoryLedger()
    with pytest.raises(feeds.FeedError):
        feeds.ingest(
            io.BytesIO(b"title,isbn\nA history,9780306406157\n"), _feed(), sink=ListSink(), ledger=ledger
        )
    (reason,) = ledger.failures.values()
    assert "MARCXML" in reason and "KBART" in reason


def test_a_kbart_header_that_is_incomplete_fails_the_job_naming_the_missing_columns():
    ledger = MemoryLedger()
    with pytest.raises(feeds.FeedError):
        feeds.ingest(
            io.BytesIO(b"publication_title\tprint_identifier\n"), _feed(), sink=ListSink(), ledger=ledger
        )
    (reason,) = ledger.failures.values()
    assert "KBART" in reason and "online_identifier" in reason


def test_a_file_in_the_wrong_place_still_gets_a_failed_job():
    ledger = MemoryLedger()
    with pytest.raises(feeds.FeedError):
        feeds.ingest(io.BytesIO(b""), _feed(key="feeds/x.mrc"), sink=ListSink(), ledger=ledger)
    assert list(ledger.failures) == list(ledger.jobs)


def test_record_batch_round_trips_through_the_wire_format():
    batch = RecordBatch(
        job_id="j",
        provider="harbor",
        seq=3,
        records=[{"position": 1, "source_id": "a", "marc": {"leader": "x", "fields": []}}],
    )
    assert RecordBatch.model_validate_json(batch.to_message()) == batch


def test_validate_names_what_is_missing():
    record = next(synthetic_records(1))
    assert feeds.validate(record) is None
    record.leader = record.leader[:6] + "z" + record.leader[7:]
    assert "Leader/06" in feeds.validate(record)


def test_ingest_carries_record_warnings_to_the_summary_and_the_ledger(corpus):
    ledger = MemoryLedger()
    data = (corpus / "marc4j/test/resources/chinese_mangled_multibyte.mrc").read_bytes()
    summary = feeds.ingest(io.BytesIO(data), _feed(), sink=ListSink(), ledger=ledger)
    stored = ledger.warnings[summary.job_id]
    assert summary.warned >= 1 and summary.warned == len(stored) == ledger.warned[summary.job_id]
    assert summary.sent + summary.rejected == summary.records_read
    assert all(w.warnings and w.source_id for w in stored.values())
