"""`ingest.check`: the offline read-and-validate behind `netzone feed check`."""

import gzip
import io

from demo.feeds import synthetic_records, write_iso2709, write_mixed_iso2709
from netzone import ingest, marc

NOT_MARC_SUFFIXES = {".csv", ".zip", ".txt", ".balance", ".md", ".mrk", ".mrk8"}


def test_a_clean_feed_is_all_accepted_and_exits_0(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(12))
    report = ingest.check(io.BytesIO(gzip.compress(path.read_bytes())))
    assert (report.format, report.records_read, report.accepted, report.rejected) == ("iso2709", 12, 12, 0)
    assert report.exit_status == 0 and report.error is None


def test_rejects_are_counted_listed_up_to_the_limit_and_exit_1(tmp_path):
    path = tmp_path / "mixed.mrc"
    info = write_mixed_iso2709(path, 30)
    report = ingest.check(io.BytesIO(path.read_bytes()), max_rejects=2)
    malformed = info["malformed"]
    assert report.records_read == 30 + len(malformed)
    assert report.rejected == len(malformed) and report.accepted == 30
    assert [r.position for r in report.rejects] == [p for p, _ in malformed][:2]
    assert sum(report.reasons.values()) == report.rejected
    assert report.exit_status == 1


def test_not_marc_exits_2_and_says_why():
    report = ingest.check(io.BytesIO(b"left_file,left_record\na.mrc,0\n"))
    assert report.exit_status == 2 and report.records_read == 0
    assert "not MARC21" in report.error


def test_a_gzip_cut_short_reports_what_was_read(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(200))
    packed = gzip.compress(path.read_bytes())
    report = ingest.check(io.BytesIO(packed[: len(packed) // 2]))
    assert report.exit_status == 2 and "could not be read to the end" in report.error
    assert report.records_read == report.accepted + report.rejected


def test_whole_corpus_goes_through_check_without_a_crash(corpus):
    checked = marc_files = 0
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        with open(path, "rb") as stream:
            report = ingest.check(stream, max_rejects=10_000)
        checked += 1
        assert report.records_read == report.accepted + report.rejected, path
        assert report.rejected == len(report.rejects), path
        assert all(r.reason for r in report.rejects), path
        if report.format is not None and report.error is None:
            marc_files += 1
        if path.suffix in NOT_MARC_SUFFIXES or path.name == "README":
            assert report.error and report.records_read == 0, path  # reported as not MARC
        if path.suffix in (".mrc", ".dat", ".marc"):
            assert report.format == "iso2709" and report.records_read > 0, path
    assert checked > 300 and marc_files > 150


def test_corpus_warnings_are_counted_not_lost(corpus):
    with open(corpus / "pymarc/test/bad_eacc_encoding.dat", "rb") as stream:
        report = ingest.check(stream)
    assert report.accepted == 1 and report.records_with_warnings == 1
    assert report.warnings[0].position == 1 and report.warnings[0].warnings
    with open(corpus / "pymarc/test/marc.dat", "rb") as stream:
        _, results = marc.read_records(stream)
        expected = sum(1 for r in results if r.warnings)
    with open(corpus / "pymarc/test/marc.dat", "rb") as stream:
        assert ingest.check(stream).records_with_warnings == expected


def test_rejects_are_counted_by_kind_keeping_tags_and_dropping_offsets():
    from netzone.screening import reason_kind

    assert reason_kind("no 245 title statement (245 $a or $k is required)") == (
        "no 245 title statement (245 $a or $k is required)"
    )
    assert reason_kind("invalid UTF-8 at byte 1025 of the record (field 7)") == (
        "invalid UTF-8 at byte N of the record (field N)"
    )
    assert (
        reason_kind("Leader/06 record type 'x' is not bibliographic")
        == "Leader/06 record type 'x' is not bibliographic"
    )
    # Numbers with thousands separators are one number, whatever their size.
    assert reason_kind("field 856 is 12,345 bytes: ISO 2709 allows 9,999") == (
        "field 856 is N bytes: ISO 2709 allows N"
    )
    assert reason_kind("record of 1,234,567 bytes at byte 98, 2 fields") == (
        "record of N bytes at byte N, N fields"
    )
