"""Hostile feeds: size limits in every reader, while reading, in bounded memory.

A record over the limits (ISO 2709: 99,999 bytes a record, 9,999 a field; MARCXML and
MARC-in-JSON records are held to what their ISO 2709 encoding would be) is rejected with its
reason as it is read, without being held in memory, and the records around it still come
through; `netzone feed check` and the ingest (feed_ingest's reading path) give the same
outcome record by record; a rejects file and a report have caps.

The tests make the hostile files themselves: gzip'd, written as a stream (a few hundred MB of
padding compress to well under a MB), and each read in a subprocess whose peak memory (VmHWM)
must stay under PEAK_MB. Run as a script (`python test_hostile_feeds.py check|ingest FILE`),
this module is that subprocess: it prints each record's outcome and its own peak memory.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAD = 300 << 20  # hostile padding: more than the memory a reader may use, so holding it fails
PEAK_MB = 256
LEADER = "00000nam a2200000 a 4500"  # Leader/09 'a': UTF-8


# ---------------------------------------------------------------- the subprocess


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(mode: str, path: str) -> None:
    """Read one feed as `feed check` (the CLI) or as feed_ingest does; print outcomes and peak."""
    if mode == "check":
        from netzone import cli

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = cli.main(["feed", "check", path, "--json", "--max-rejects", "1000000"])
        report = json.loads(out.getvalue())
        rejected = {r["position"]: r["reason"] for r in report["rejects"]}
        outcomes = {p: rejected.get(p, "accepted") for p in range(1, report["records_read"] + 1)}
        extra = {"exit_status": status, "format": report["format"], "error": report["error"]}
    else:
        from fakes import ListSink, MemoryLedger, MemoryProviders
        from netzone import ingest, jobs

        sink, ledger = ListSink(), MemoryLedger()
        ref = jobs.FeedRef(bucket="b", key=f"feeds/hostile/{Path(path).name}", etag="e")
        with open(path, "rb") as stream:
            summary = ingest.ingest(
                stream, ref, sink=sink, ledger=ledger, providers=MemoryProviders(everyone=True)
            )
        outcomes = {
            item.position: "accepted"
            for batch in sink.batches
            for item in getattr(batch, "records", None) or getattr(batch, "rows", [])
        }
        outcomes |= {r.position: r.reason for r in ledger.rejects.get(summary.job_id, {}).values()}
        extra = {"format": summary.format, "records_read": summary.records_read}
    print(json.dumps({"outcomes": outcomes, "peak_mb": round(_peak_mb(), 1), **extra}))


def _read_both(path: Path) -> tuple[dict, dict]:
    """`feed check` and the ingest over one file, each in its own process, side by side."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers/core", "tests", "infra", "functions"))
    runs = [
        subprocess.Popen(
            [sys.executable, __file__, mode, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for mode in ("check", "ingest")
    ]
    results = []
    try:
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err.decode(errors="replace")[-3000:]
            results.append(json.loads(out.decode().splitlines()[-1]))
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    return results[0], results[1]


# ---------------------------------------------------------------- hostile files


def _gzip(path: Path, parts: Iterable[bytes], level: int = 1) -> Path:
    with gzip.open(path, "wb", compresslevel=level) as out:
        for part in parts:
            out.write(part)
    return path


def _repeat(unit: bytes, total: int, block: int = 1 << 20) -> Iterator[bytes]:
    """`total` bytes of `unit` repeated, a block at a time (never the whole in memory)."""
    piece = unit * (block // len(unit))
    while total > 0:
        yield piece if total >= len(piece) else piece[:total]
        total -= len(piece)


def _record(n: int, *extra):
    from pymarc import Field, Indicators, Record, Subfield

    record = Record(leader=LEADER)
    record.add_field(Field(tag="001", data=f"hostile-{n:03d}"))
    record.add_field(
        Field(tag="245", indicators=Indicators("0", "0"), subfields=[Subfield("a", f"Title {n}")])
    )
    for field in extra:
        record.add_field(field)
    return record


def _field(tag: str, value: str, code: str = "a"):
    from pymarc import Field, Indicators, Subfield

    return Field(tag=tag, indicators=Indicators(" ", " "), subfields=[Subfield(code, value)])


def _xml(record) -> bytes:
    from pymarc.marcxml import record_to_xml

    return record_to_xml(record, namespace=False) + b"\n"


XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
XML_TAIL = b"</collection>\n"


def _json(record) -> bytes:
    return json.dumps(record.as_dict()).encode()


def _split(data: bytes, marker: bytes) -> tuple[bytes, bytes]:
    before, after = data.split(marker)
    return before, after


def _xml_huge_subfield(pad: int) -> Iterator[bytes]:
    before, after = _split(_xml(_record(2, _field("520", "@PAD@"))), b"@PAD@")
    yield XML_HEAD + _xml(_record(1)) + before
    yield from _repeat(b"x", pad)
    yield after + _xml(_record(3)) + XML_TAIL


def _xml_huge_markup(pad: int) -> Iterator[bytes]:
    """A start tag expat would have to hold whole: one attribute of `pad` bytes."""
    yield (
        XML_HEAD
        + _xml(_record(1))
        + b"<record><leader>"
        + LEADER.encode()
        + b'</leader><datafield tag="520" x="'
    )
    yield from _repeat(b"y", pad)
    yield b'"/></record>\n' + _xml(_record(3)) + XML_TAIL


def _json_array_padded(pad: int) -> Iterator[bytes]:
    """A JSON array whose second record carries `pad` bytes of whitespace between its fields."""
    second = _json(_record(2))
    cut = second.index(b"[") + 1
    yield b"[\n" + _json(_record(1)) + b",\n" + second[:cut]
    yield from _repeat(b" \t\r\n", pad)
    yield second[cut:] + b",\n" + _json(_record(3)) + b"\n]\n"


def _json_lines_padded(pad: int) -> Iterator[bytes]:
    """JSON lines whose second line has `pad` spaces between its fields (no line break)."""
    second = _json(_record(2))
    cut = second.index(b"[") + 1
    yield _json(_record(1)) + b"\n" + second[:cut]
    yield from _repeat(b" ", pad)
    yield second[cut:] + b"\n" + _json(_record(3)) + b"\n"


def _json_huge_string(pad: int, lines: bool) -> Iterator[bytes]:
    before, after = _split(_json(_record(2, _field("520", "@PAD@"))), b"@PAD@")
    sep = b"\n" if lines else b",\n"
    yield (b"" if lines else b"[") + _json(_record(1)) + sep + before
    yield from _repeat(b"x", pad)
    yield after + sep + _json(_record(3)) + (b"\n" if lines else b"]\n")


def _kbart_long_line(pad: int) -> Iterator[bytes]:
    from demo.feeds import KBART_COLUMNS, kbart_row

    def row(n: int) -> bytes:
        return kbart_row(
            publication_title=f"Hostile title {n}",
            title_url=f"https://example.org/{n}",
            title_id=f"hostile-{n}",
            publication_type="monograph",
            coverage_depth="fulltext",
        ).encode()

    yield "\t".join(KBART_COLUMNS).encode() + b"\n" + row(1) + b"\n" + b"Endless title"
    yield from _repeat(b"z", pad)
    yield b"\n" + row(3) + b"\n"


def _iso(record) -> bytes:
    return record.as_marc()


# ---------------------------------------------------------------- limits


def test_the_limits_are_the_documented_ones():
    from netzone import jobs, marc

    assert (marc.MAX_RECORD_BYTES, marc.MAX_FIELD_BYTES) == (99_999, 9_999)  # ISO 2709 leader, directory
    assert marc.MAX_JSON_RECORD_BYTES == 1_000_000 and marc.MAX_XML_MARKUP_BYTES == 1_000_000
    assert jobs.MAX_REJECT_RAW_BYTES == marc.MAX_RECORD_BYTES
    assert jobs.MAX_REJECTS_FILE_BYTES == 16 << 20 and jobs.MAX_REPORT_REJECTS == 10_000
    readme = (ROOT / "docs" / "feeds.md").read_text()  # the size limits table
    for text in (
        marc.field_too_long("520"),
        marc.record_too_long(),
        "1,000,000 bytes",
        "16 MiB",
        "10,000 rejects",
        "rejects_left_out",
        "rejects_file_left_out",
    ):
        assert text.replace("520", "NNN") in readme.replace("520", "NNN"), text


def _outcomes(data: bytes, name: str = "feed") -> tuple[dict, dict]:
    """Per-record outcomes of `ingest.check` and `ingest.ingest` over the same bytes, in-process."""
    from fakes import ListSink, MemoryLedger, MemoryProviders
    from netzone import ingest, jobs

    report = ingest.check(io.BytesIO(data), max_rejects=1_000_000)
    rejected = {r.position: r.reason for r in report.rejects}
    checked = {p: rejected.get(p, "accepted") for p in range(1, report.records_read + 1)}
    sink, ledger = ListSink(), MemoryLedger()
    ref = jobs.FeedRef(bucket="b", key=f"feeds/hostile/{name}", etag="e")
    summary = ingest.ingest(
        io.BytesIO(data), ref, sink=sink, ledger=ledger, providers=MemoryProviders(everyone=True)
    )
    ingested = {item.position: "accepted" for batch in sink.batches for item in batch.records}
    ingested |= {r.position: r.reason for r in ledger.rejects.get(summary.job_id, {}).values()}
    return checked, ingested


def _boundary_records(field_bytes: int, record_bytes: int):
    """Two records: one with a field of exactly `field_bytes` bytes in ISO 2709, one of exactly
    `record_bytes` bytes as a whole (fields of at most 9,000 bytes)."""
    from netzone import marc

    # A data field with one subfield of n bytes is n + 5 bytes: indicators, $a, field terminator.
    wide = _record(1, _field("520", "w" * (field_bytes - 5)))
    assert len(wide["520"].as_marc("utf-8")) == field_bytes
    big = _record(2)
    while len(big.as_marc()) + 9_000 + 12 <= record_bytes:
        big.add_field(_field("500", "b" * (9_000 - 5)))
    rest = record_bytes - len(big.as_marc()) - 12 - 5
    big.add_field(_field("590", "r" * rest))
    # (pymarc writes the length of a record over 99,999 bytes with 6 digits: one byte more.)
    assert len(big.as_marc()) == record_bytes + (record_bytes > 99_999)
    assert marc.MAX_FIELD_BYTES >= 9_000
    return wide, big


def _expect(outcomes: dict, accepted: Iterable[int], rejected: dict[int, str]) -> None:
    for position in accepted:
        assert outcomes[position] == "accepted", (position, outcomes[position])
    for position, text in rejected.items():
        assert text in outcomes[position], (position, outcomes[position])


def test_marcxml_and_json_records_are_held_to_the_iso2709_limits_exactly():
    from netzone import marc

    at_limit = _boundary_records(9_999, 99_999)
    over = _boundary_records(10_000, 100_000)
    for fmt in ("marcxml", "marc-json-lines", "marc-json-array"):
        records = [*at_limit, *over, _record(5)]
        if fmt == "marcxml":
            data = XML_HEAD + b"".join(_xml(r) for r in records) + XML_TAIL
        elif fmt == "marc-json-lines":
            data = b"".join(_json(r) + b"\n" for r in records)
        else:
            data = b"[\n" + b",\n".join(_json(r) for r in records) + b"\n]\n"
        checked, ingested = _outcomes(data)
        assert checked == ingested, fmt
        _expect(
            checked,
            accepted=(1, 2, 5),
            rejected={3: marc.field_too_long("520"), 4: marc.record_too_long()},
        )


def test_an_iso2709_record_longer_than_its_leader_can_say_is_rejected():
    from netzone import marc

    # A record pymarc would read by its directory, with 120,000 bytes before its terminator.
    long_frame = _iso(_record(2))[:-1] + b" " * 120_000 + b"\x1d"
    data = _iso(_record(1)) + long_frame + _iso(_record(3))
    checked, ingested = _outcomes(data, "long.mrc")
    assert checked == ingested
    _expect(checked, accepted=(1, 3), rejected={2: marc.record_too_long()})


# ---------------------------------------------------------------- hostile files, bounded memory


def _hostile(tmp_path: Path, name: str, parts: Iterable[bytes]) -> tuple[dict, dict]:
    path = _gzip(tmp_path / name, parts)
    assert path.stat().st_size < 4 << 20  # small on disk, huge once unpacked
    check, ingest = _read_both(path)
    for run in (check, ingest):
        assert run["peak_mb"] < PEAK_MB, run
    assert check["outcomes"] == ingest["outcomes"]  # the same fate, record by record
    return check, ingest


def test_a_marcxml_subfield_of_300_mib_is_rejected_while_read_in_bounded_memory(tmp_path):
    from netzone import marc

    check, _ = _hostile(tmp_path, "subfield.xml.gz", _xml_huge_subfield(PAD))
    assert check["exit_status"] == 1 and check["error"] is None
    _expect(check["outcomes"], accepted=("1", "3"), rejected={"2": marc.field_too_long("520")})


def test_a_marcxml_tag_of_300_mib_stops_the_file_with_its_reason_in_bounded_memory(tmp_path):
    from netzone import marc

    check, _ = _hostile(tmp_path, "markup.xml.gz", _xml_huge_markup(PAD))
    # expat cannot go past markup it refuses: the records before it come through.
    assert check["outcomes"]["1"] == "accepted"
    assert f"{marc.MAX_XML_MARKUP_BYTES:,} bytes" in check["outcomes"]["2"]


def test_a_json_array_record_padded_with_300_mib_of_whitespace_streams_in_bounded_memory(tmp_path):
    check, _ = _hostile(tmp_path, "padded.json.gz", _json_array_padded(PAD))
    # Whitespace between JSON tokens is not content: the padded record is an ordinary record.
    assert check["outcomes"] == {"1": "accepted", "2": "accepted", "3": "accepted"}
    assert check["exit_status"] == 0


def test_a_json_line_padded_with_300_mib_of_spaces_streams_in_bounded_memory(tmp_path):
    check, _ = _hostile(tmp_path, "padded.jsonl.gz", _json_lines_padded(PAD))
    assert check["outcomes"] == {"1": "accepted", "2": "accepted", "3": "accepted"}


def test_a_json_string_of_300_mib_is_rejected_in_bounded_memory(tmp_path):
    from netzone import marc

    for lines in (False, True):
        name = "string.jsonl.gz" if lines else "string.json.gz"
        check, _ = _hostile(tmp_path, name, _json_huge_string(PAD, lines))
        _expect(
            check["outcomes"],
            accepted=("1", "3"),
            rejected={"2": f"longer than {marc.MAX_JSON_RECORD_BYTES:,} bytes"},
        )


def test_a_kbart_line_of_300_mib_is_rejected_in_bounded_memory(tmp_path):
    from netzone import kbart

    check, _ = _hostile(tmp_path, "Hostile_Global_Long_2026-01-01.txt.gz", _kbart_long_line(PAD))
    _expect(
        check["outcomes"],
        accepted=("1", "3"),
        rejected={"2": f"longer than {kbart.MAX_LINE_BYTES} bytes"},
    )


# ---------------------------------------------------------------- rejects files and reports


class _Reports:
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def put(self, key, body, content_type):
        self.objects[key] = body.read()
        return f"s3://b/{key}"


class _Finishing:
    """The FinishingLedger reads the completion needs, over a MemoryLedger."""

    def __init__(self, ledger, job_id):
        self.ledger, self.job_id = ledger, job_id

    def all_rejects(self, job_id):
        rejects = self.ledger.rejects.get(job_id, {})
        return iter(rejects[p] for p in sorted(rejects))

    def all_warnings(self, job_id):
        return iter(())

    def all_filed(self, job_id):
        return iter(())


def _ingest_and_report(path: Path) -> tuple[dict, bytes | None, int]:
    """Ingest a file with in-memory fakes, then write its report and rejects file as
    record_match's completion does; returns (report, rejects file, records rejected)."""
    from fakes import ListSink, MemoryLedger, MemoryProviders
    from netzone import clock, completion, ingest, jobs

    ledger = MemoryLedger()
    ref = jobs.FeedRef(bucket="b", key=f"feeds/hostile/{path.name}", etag="e")
    with open(path, "rb") as stream:
        summary = ingest.ingest(
            stream, ref, sink=ListSink(), ledger=ledger, providers=MemoryProviders(everyone=True)
        )
    job = ledger.jobs[summary.job_id].model_copy(
        update={"format": summary.format, "records_read": summary.records_read, "status": "completed"}
    )
    reports = _Reports()
    finisher = completion.FeedFinisher(_Finishing(ledger, job.job_id), None, None, reports, None, None)
    finisher._write_report(job, clock.now())
    report = json.loads(reports.objects[completion.report_key(ref.key)])
    rejects = reports.objects.get(completion.rejects_key(ref.key, summary.format))
    return report, rejects, summary.rejected


def test_a_50_kb_gzip_of_zeros_writes_no_50_mb_rejects_file(tmp_path):
    from netzone import jobs

    # MARC-looking: five digits and a field terminator up front, then 50 MB of zeros.
    path = _gzip(tmp_path / "zeros.mrc.gz", [b"00000nam a2200000 a 4500\x1e", *_repeat(b"0", 50 << 20)], 9)
    assert path.stat().st_size < 100_000
    report, rejects, rejected = _ingest_and_report(path)
    assert rejected >= 400 and len(report["rejects"]) == rejected  # every one counted and listed
    assert sum(report["reject_reasons"].values()) == rejected
    # No stretch of zeros is a record that fits ISO 2709: none is kept for the rejects file.
    assert rejects is None or len(rejects) <= jobs.MAX_REJECTS_FILE_BYTES
    kept = sum(1 for r in report["rejects"] if "in_rejects_file" in r)
    assert report["rejects_file_left_out"] == rejected - kept


def test_the_rejects_file_stops_at_its_cap_and_the_report_says_how_many_were_left_out(tmp_path):
    from netzone import jobs

    # Zeros cut into 99,999-byte "records" (the largest ISO 2709 allows), 40 MB of them.
    frame = b"0" * 99_998 + b"\x1d"
    path = _gzip(tmp_path / "frames.mrc.gz", [b"00000\x1e", *_repeat(frame, 400 * len(frame))], 9)
    report, rejects, rejected = _ingest_and_report(path)
    assert rejected == 400 and len(report["rejects"]) == 400
    assert rejects is not None and len(rejects) <= jobs.MAX_REJECTS_FILE_BYTES
    kept = sum(1 for r in report["rejects"] if "in_rejects_file" in r)
    assert 0 < kept < rejected and report["rejects_file_left_out"] == rejected - kept
    assert rejects.count(b"\x1d") == kept  # only whole records in the file


def test_the_report_lists_at_most_its_cap_of_rejects_and_counts_stay_exact(tmp_path):
    from netzone import jobs

    count = jobs.MAX_REPORT_REJECTS + 1_500
    path = _gzip(tmp_path / "tiny.mrc.gz", [b"00000\x1e\x1d", *_repeat(b"x\x1d", 2 * (count - 1))], 9)
    report, _, rejected = _ingest_and_report(path)
    assert rejected == count
    assert len(report["rejects"]) == jobs.MAX_REPORT_REJECTS
    assert report["rejects_left_out"] == 1_500
    assert sum(report["reject_reasons"].values()) == count  # counts stay exact


def test_a_reject_keeps_at_most_one_records_worth_of_bytes_and_a_bounded_reason():
    from netzone import jobs

    big = jobs.Reject(position=1, reason="r" * 50_000, raw=b"x" * 200_000, source_id="s" * 5_000)
    assert big.raw is None and len(big.reason) <= jobs.MAX_REASON_CHARS
    assert len(big.source_id) <= jobs.MAX_SOURCE_ID
    small = jobs.Reject(position=2, reason="bad", raw=b"x" * 99_999)
    assert small.raw == b"x" * 99_999


if __name__ == "__main__":
    _child(*sys.argv[1:3])
