import io

import pytest

from demo.feeds import synthetic_records, write_iso2709, write_mixed_iso2709
from fakes import ListSink, MemoryLedger, MemoryProviders
from netzone import ingest, jobs, providers, screening
from netzone.batches import RecordBatch
from netzone.jobs import FeedRef

ANY_PROVIDER = MemoryProviders(everyone=True)


def _feed(key="feeds/harbor/2026-11.mrc", etag='"abc"'):
    return FeedRef(bucket="nz-feeds", key=key, etag=etag)


def test_job_id_is_stable_per_object_version_and_changes_with_it():
    a = jobs.job_id_for("b", "feeds/harbor/x.mrc", '"etag1"')
    assert a == jobs.job_id_for("b", "feeds/harbor/x.mrc", "etag1")  # quotes are not part of the ETag
    assert a != jobs.job_id_for("b", "feeds/harbor/x.mrc", '"etag2"')
    assert a != jobs.job_id_for("b", "feeds/meridian/x.mrc", '"etag1"')


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("incoming/x.mrc", "feeds/<provider>/<file>"),
        ("feeds/Harbor Books/x.mrc", "provider code"),
        ("feeds/x.mrc", "feeds/"),
    ],
)
def test_feed_keys_name_their_provider(key, message):
    with pytest.raises(jobs.FeedError, match=message):
        providers.provider_of(key)


def test_every_record_of_a_mixed_feed_is_sent_or_rejected_with_a_reason(tmp_path):
    path = tmp_path / "mixed.mrc"
    info = write_mixed_iso2709(path, 40, provider="harbor")
    sink, ledger = ListSink(), MemoryLedger()
    summary = ingest.ingest(
        io.BytesIO(path.read_bytes()),
        _feed(),
        sink=sink,
        ledger=ledger,
        providers=ANY_PROVIDER,
        max_records=7,
    )

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
    ingest.ingest(
        io.BytesIO(path.read_bytes()),
        _feed(),
        sink=sink,
        ledger=MemoryLedger(),
        providers=ANY_PROVIDER,
        max_records=500,
        max_bytes=10_000,
    )
    assert len(sink.batches) > 1
    assert all(len(b.to_message()) < 20_000 for b in sink.batches)


def test_unknown_format_fails_the_job_with_the_reason():
    ledger = MemoryLedger()
    with pytest.raises(jobs.FeedError):
        ingest.ingest(
            io.BytesIO(b"title,isbn\nA history,9780306406157\n"),
            _feed(),
            sink=ListSink(),
            ledger=ledger,
            providers=ANY_PROVIDER,
        )
    (reason,) = ledger.failures.values()
    assert "MARCXML" in reason and "KBART" in reason


def test_a_kbart_header_that_is_incomplete_fails_the_job_naming_the_missing_columns():
    ledger = MemoryLedger()
    with pytest.raises(jobs.FeedError):
        ingest.ingest(
            io.BytesIO(b"publication_title\tprint_identifier\n"),
            _feed(),
            sink=ListSink(),
            ledger=ledger,
            providers=ANY_PROVIDER,
        )
    (reason,) = ledger.failures.values()
    assert "KBART" in reason and "online_identifier" in reason


def test_a_file_in_the_wrong_place_still_gets_a_failed_job():
    ledger = MemoryLedger()
    with pytest.raises(jobs.FeedError):
        ingest.ingest(
            io.BytesIO(b""), _feed(key="feeds/x.mrc"), sink=ListSink(), ledger=ledger, providers=ANY_PROVIDER
        )
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
    assert screening.validate(record) is None
    record.leader = record.leader[:6] + "z" + record.leader[7:]
    assert "Leader/06" in screening.validate(record)


def test_ingest_carries_record_warnings_to_the_summary_and_the_ledger(corpus):
    ledger = MemoryLedger()
    data = (corpus / "marc4j/test/resources/chinese_mangled_multibyte.mrc").read_bytes()
    summary = ingest.ingest(io.BytesIO(data), _feed(), sink=ListSink(), ledger=ledger, providers=ANY_PROVIDER)
    stored = ledger.warnings[summary.job_id]
    assert summary.warned >= 1 and summary.warned == len(stored) == ledger.warned[summary.job_id]
    assert summary.sent + summary.rejected == summary.records_read
    assert all(w.warnings and w.source_id for w in stored.values())


def test_a_feed_from_an_unregistered_provider_is_rejected_whole(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(5, "stranger"))
    sink, ledger = ListSink(), MemoryLedger()
    registry = MemoryProviders(providers.FeedProvider(code="harbor"))
    with pytest.raises(jobs.FeedError, match="'stranger' is not registered"):
        ingest.ingest(
            io.BytesIO(path.read_bytes()),
            _feed(key="feeds/stranger/feed.mrc"),
            sink=sink,
            ledger=ledger,
            providers=registry,
        )
    (job_id,) = ledger.failures
    assert "POST /providers" in ledger.failures[job_id]
    assert sink.batches == [] and ledger.finished == {}  # nothing half-ingested


def test_a_format_the_provider_is_not_registered_for_is_rejected_whole(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(3, "harbor"))
    sink, ledger = ListSink(), MemoryLedger()
    registry = MemoryProviders(providers.FeedProvider(code="harbor", formats=["marcxml"]))
    with pytest.raises(jobs.FeedError, match=r"this file is marc21.*registered for marcxml"):
        ingest.ingest(io.BytesIO(path.read_bytes()), _feed(), sink=sink, ledger=ledger, providers=registry)
    assert sink.batches == []


@pytest.mark.parametrize("mode", ["incremental", "full"])
def test_batches_carry_the_providers_feed_mode(tmp_path, mode):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(12, "harbor"))
    sink = ListSink()
    registry = MemoryProviders(providers.FeedProvider(code="harbor", feed_mode=mode))
    ingest.ingest(
        io.BytesIO(path.read_bytes()),
        _feed(),
        sink=sink,
        ledger=MemoryLedger(),
        providers=registry,
        max_records=5,
    )
    assert len(sink.batches) == 3 and {b.feed_mode for b in sink.batches} == {mode}


def _pause_after(n):
    calls = iter(range(10**9))
    return lambda: next(calls) >= n


def _delivered(sink):
    return [(r.position, r.source_id) for b in sink.batches for r in b.records]


@pytest.mark.parametrize("form", ["iso2709", "gzip", "marcxml"])
def test_a_paused_ingest_continues_from_its_checkpoint_as_if_never_paused(tmp_path, form):
    import gzip as gz

    path = tmp_path / "feed"
    layout = write_mixed_iso2709(path, valid=40, provider="harbor")
    data = path.read_bytes()
    if form == "gzip":
        data = gz.compress(data)
    elif form == "marcxml":
        from demo.feeds import write_marcxml

        write_marcxml(path, synthetic_records(40, "harbor"))
        data = path.read_bytes()
    whole_sink, whole = ListSink(), MemoryLedger()
    ingest.ingest(
        io.BytesIO(data), _feed(), sink=whole_sink, ledger=whole, providers=ANY_PROVIDER, max_records=7
    )

    sink, ledger = ListSink(), MemoryLedger()
    stream, resume, runs = io.BytesIO(data), None, 0
    while True:
        runs += 1
        summary = ingest.ingest(
            stream,
            _feed(),
            sink=sink,
            ledger=ledger,
            providers=ANY_PROVIDER,
            max_records=7,
            resume=resume,
            should_pause=_pause_after(0),  # asked at batch ends: pause at each
        )
        if summary.checkpoint is None:
            break
        resume = ingest.Checkpoint.model_validate_json(summary.checkpoint.to_message())  # via the queue
        # Plain ISO 2709 goes on from the byte offset; gzip and XML are re-read and skipped.
        assert (resume.offset is not None) == (form == "iso2709")
        stream = io.BytesIO(data[resume.offset :] if resume.offset is not None else data)
    assert runs > 3
    assert _delivered(sink) == _delivered(whole_sink)
    # Paused only where a batch ends anyway: the same batches as one uninterrupted read.
    assert [[r.position for r in b.records] for b in sink.batches] == [
        [r.position for r in b.records] for b in whole_sink.batches
    ]
    assert [b.seq for b in sink.batches] == list(range(len(sink.batches)))
    assert ledger.finished == whole.finished  # read once, counted once: same totals
    (job_id,) = ledger.finished
    assert ledger.rejects.get(job_id, {}).keys() == whole.rejects.get(job_id, {}).keys()
    if form != "marcxml":
        assert len(ledger.rejects[job_id]) == len(layout["malformed"])
