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


# ---------------------------------------------------------------- bad bytes and warnings


def _marc8_record(title: bytes) -> bytes:
    """A MARC-8 record (Leader/09 blank) whose 245 $a holds `title`, built byte by byte."""
    fields = [("001", b"m8-1\x1e"), ("245", b"10\x1fa" + title + b"\x1e")]
    directory, data = b"", b""
    for tag, body in fields:
        directory += tag.encode() + b"%04d%05d" % (len(body), len(data))
        data += body
    base = 24 + len(directory) + 1
    length = base + len(data) + 1
    leader = b"%05dnam  22%05d   4500" % (length, base)
    return leader + directory + b"\x1e" + data + b"\x1d"


def test_marc8_with_an_unmappable_character_is_read_with_a_warning_and_prints_nothing(capfd):
    good = b"Caf\xe2e"  # ANSEL 0xE2 = combining acute, before the letter it belongs to
    bad = b"Caf\xe2e \x1b(S\x7f\x1b(B end"  # Greek G0 has no 0x7F
    record_bytes = _marc8_record(good) + _marc8_record(bad)
    _, results = _read(record_bytes)
    assert [r.record is not None for r in results] == [True, True]
    assert results[0].warnings == []
    assert results[0].record["245"]["a"] == "Café"
    (note,) = results[1].warnings
    value_at = record_bytes.index(bad, len(_marc8_record(good))) - len(_marc8_record(good))
    assert note.startswith(f"MARC-8 in 245 $a (value at record byte {value_at})")
    assert "0x7f" in note
    assert capfd.readouterr() == ("", "")  # pymarc's stderr lines are captured, not printed


def test_utf8_record_with_invalid_bytes_is_rejected_with_the_byte_and_field(tmp_path):
    path = tmp_path / "feed.mrc"
    write_iso2709(path, synthetic_records(2))
    data = bytearray(path.read_bytes())
    first_end = data.index(b"\x1d") + 1
    title = data.index(b"\x1fa", data.index(b"\x1e", 24) + 1, first_end)  # first $a after the directory
    data[title + 3] = 0xFF
    _, results = _read(bytes(data))
    assert results[0].record is None and results[1].record is not None
    assert f"invalid UTF-8 at byte {title + 3} of the record" in results[0].error
    assert results[0].raw == bytes(data[:first_end])


def test_corpus_marc8_and_bad_utf8_files(corpus, capfd):
    def read(name):
        with open(corpus / name, "rb") as stream:
            return list(marc.read_records(stream)[1])

    for name in (
        "pymarc/test/bad_eacc_encoding.dat",
        "marc4j/test/resources/chinese_mangled_multibyte.mrc",
        "marc4j/test/resources/greekmissingcharsetchange.mrc",
    ):
        results = read(name)
        assert all(r.record is not None for r in results), name
        assert any(any("MARC-8 in 880" in w for w in r.warnings) for r in results), name
    (bad_utf8,) = read("ruby-marc/test/utf8_with_bad_bytes.marc")
    assert bad_utf8.record is None and "invalid UTF-8 at byte" in bad_utf8.error
    (broken_escape,) = read("marc4j/test/resources/incomplete_esc_seq.mrc")
    assert broken_escape.record is None and broken_escape.error.startswith("invalid MARC-8")
    (indicators,) = read("pymarc/test/bad_indicator.dat")
    assert indicators.record is not None and any("indicators" in w for w in indicators.warnings)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize(
    "data",
    [
        b"34284\tThoreau, Henry David\t1817-1862\n",  # digits first, but no MARC structure
        b'{"id": 1, "label": "match"}\n',  # JSON, but not MARC-in-JSON
        b"PK\x03\x04\x14\x00\x08\x00",  # a zip
    ],
)
def test_not_marc_is_said_to_be_not_marc(data):
    with pytest.raises(marc.UnknownFormat):
        _read(data)


def test_detection_sees_past_a_byte_order_mark(tmp_path):
    path = tmp_path / "feed.xml"
    write_marcxml(path, synthetic_records(2))
    text = path.read_bytes()
    assert _read(b"\xef\xbb\xbf" + text)[0] == "marcxml"
    assert _read(gzip.compress(b"  \n" + text))[0] == "marcxml"
