import gzip
import io

import pytest

from demo.feeds import synthetic_records, write_iso2709, write_marcxml, write_mixed_iso2709
from netzone import marc


def _read(data: bytes):
    fmt, results = marc.read_records(io.BytesIO(data))
    return fmt, list(results)


def test_detects_format_from_content_not_name(tmp_path):
    write_iso2709(tmp_path / "a.xml", synthetic_records(2))  # misleading name on purpose
    write_marcxml(tmp_path / "b.mrc", synthetic_records(2))
    assert _read((tmp_path / "a.xml").read_bytes())[0] == "iso2709"
    assert _read((tmp_path / "b.mrc").read_bytes())[0] == "marcxml"
    assert _read(b'{"leader":"00000nam a2200000 a 4500","fields":[{"001":"x"}]}\n')[0] == "marc-json"


def test_unknown_format_says_what_to_send():
    with pytest.raises(marc.UnknownFormat, match="MARCXML"):
        _read(b"title\tisbn\nfoo\t123\n")


def test_gzip_is_read_transparently(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(30))
    fmt, results = _read(gzip.compress(path.read_bytes()))
    assert fmt == "iso2709"
    assert [r.record["001"].data for r in results] == [f"demo-{n:08d}" for n in range(1, 31)]


def test_malformed_iso2709_record_is_reported_and_the_rest_goes_on(tmp_path):
    path = tmp_path / "mixed.mrc"
    info = write_mixed_iso2709(path, 12)
    _, results = _read(path.read_bytes())
    assert len(results) == 12 + len(info["malformed"])
    assert [r.position for r in results] == list(range(1, len(results) + 1))
    unreadable = [r for r in results if r.record is None]
    # The directory-corrupted record cannot be parsed; it keeps its position and raw bytes.
    (directory_position,) = [p for p, reason in info["malformed"] if reason == "directory"]
    assert [r.position for r in unreadable] == [directory_position]
    assert "directory" in unreadable[0].error
    assert unreadable[0].raw and unreadable[0].raw.endswith(b"\x1d")


def test_truncated_tail_and_garbage_are_reasons_not_crashes(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(3))
    data = path.read_bytes()
    _, results = _read(data + b"01234garbage without terminator")
    assert [r.record is not None for r in results] == [True, True, True, False]
    assert "truncated" in results[-1].error


def test_marcxml_is_streamed_record_by_record(tmp_path):
    path = tmp_path / "feed.xml"
    write_marcxml(path, synthetic_records(5))
    _, results = _read(path.read_bytes())
    assert [r.record["001"].data for r in results] == [f"demo-{n:08d}" for n in range(1, 6)]


def test_marcxml_refuses_entity_expansion():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>&lol2;</leader></record></collection>'
    )
    _, results = _read(bomb)
    assert len(results) == 1 and results[0].record is None
    assert "XML" in results[0].error


def test_pack_round_trip_keeps_every_field():
    record = next(synthetic_records(1))
    again = marc.unpack(marc.pack(record))
    assert again.as_dict() == record.as_dict()
    assert marc.canonical_json(again) == marc.canonical_json(record)


def test_corpus_files_never_crash_the_reader(corpus):
    files = [
        p
        for p in corpus.rglob("*")
        if p.is_file() and p.suffix in (".mrc", ".dat", ".marc", ".xml") and "expect" not in str(p)
    ]
    assert len(files) > 50
    for path in files:
        with open(path, "rb") as stream:
            try:
                _, results = marc.read_records(stream)
            except marc.UnknownFormat:
                continue  # e.g. MODS or other XML is still reported, at feed level
            results = list(results)
        assert [r.position for r in results] == list(range(1, len(results) + 1)), path
        assert all((r.record is None) == bool(r.error) for r in results), path
