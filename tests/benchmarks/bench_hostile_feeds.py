"""Peak memory on hostile feeds: feed_ingest's reading path and `netzone feed check`, per file.

Makes the hostile files of the size-limits issue, gzip'd and streamed to a temporary folder
(never whole in memory), then reads each twice, each time in a fresh process:
  - ingest: `ingest.ingest` in-process as in bench_feed_ingest.py (the sink serializes and
    discards the batches, the ledger keeps the rejects), then the report and rejects file as
    record_match's completion writes them (`completion.FeedFinisher._write_report`);
  - check: the `netzone feed check FILE --json` command.
For each it prints the outcome per record, the process's peak RSS (ru_maxrss of that child,
which is its VmHWM) and the time; for ingest also the rejects file's and the report's size.

Files (the issue's sizes; `--scale 0.1` for a quick run):
  subfield.xml.gz      MARCXML, 3 records, the second with one 256 MiB subfield
  padded.json.gz       MARC-in-JSON array, 3 records, the second padded with 1 GB of whitespace
  zeros.mrc.gz         a 50 KB gzip of MARC-looking zeros (50 MB unpacked)
  frames.mrc.gz        the same zeros cut into 99,999-byte "records" (the rejects file's cap)
  string.json.gz       MARC-in-JSON array, the second record with one 256 MiB string
  markup.xml.gz        MARCXML, a 256 MiB attribute in the second record
  long.kbart.txt.gz    KBART, the second row 1 GB long without a line break

    PYTHONPATH=layers/core:infra:functions:tests .venv/bin/python tests/benchmarks/bench_hostile_feeds.py

Figures, not assertions: tests/unit/test_hostile_feeds.py asserts the behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = [str(ROOT / p) for p in ("layers/core", "infra", "functions", "tests", "tests/unit")]
sys.path[:0] = PATHS

MiB = 1 << 20
GB = 10**9


def make_files(folder: Path, scale: float) -> list[tuple[str, Path, str]]:
    import test_hostile_feeds as hostile

    def size(n: int) -> int:
        return max(1, int(n * scale))

    made = []
    for name, parts, what, level in (
        ("subfield.xml.gz", hostile._xml_huge_subfield(size(256 * MiB)), "256 MiB subfield", 1),
        ("padded.json.gz", hostile._json_array_padded(size(GB)), "1 GB of whitespace", 9),
        (
            "zeros.mrc.gz",
            [b"00000nam a2200000 a 4500\x1e", *hostile._repeat(b"0", size(50 * MiB))],
            "gzip of zeros",
            9,
        ),
        (
            "frames.mrc.gz",
            [b"00000\x1e", *hostile._repeat(b"0" * 99_998 + b"\x1d", size(50 * MiB))],
            "zeros in 99,999-byte records",
            9,
        ),
        ("string.json.gz", hostile._json_huge_string(size(256 * MiB), False), "256 MiB JSON string", 1),
        ("markup.xml.gz", hostile._xml_huge_markup(size(256 * MiB)), "256 MiB attribute", 1),
        ("Long_Global_Kbart_2026-01-01.txt.gz", hostile._kbart_long_line(size(GB)), "1 GB KBART row", 1),
    ):
        path = hostile._gzip(folder / name, parts, level)
        made.append((name, path, what))
    return made


# ---------------------------------------------------------------- the measured processes


def child_ingest(path: str) -> None:
    """feed_ingest's reading path, in-process (as bench_feed_ingest.py), then the completion's
    report and rejects file; prints what happened as JSON."""
    from fakes import MemoryLedger, MemoryProviders
    from netzone import clock, completion, ingest, jobs

    class DiscardSink:
        records = 0

        def send(self, batch):
            batch.to_message()  # the serialization cost is part of ingest
            self.records += len(getattr(batch, "records", None) or getattr(batch, "rows", []))

    class Reports:
        sizes: dict[str, int] = {}

        def put(self, key, body, content_type):
            self.sizes[key] = len(body.read())
            return f"s3://b/{key}"

    class Finishing:
        def __init__(self, ledger):
            self.ledger = ledger

        def all_rejects(self, job_id):
            rejects = self.ledger.rejects.get(job_id, {})
            return iter(rejects[p] for p in sorted(rejects))

        def all_warnings(self, job_id):
            return iter(())

        def all_filed(self, job_id):
            return iter(())

    sink, ledger = DiscardSink(), MemoryLedger()
    ref = jobs.FeedRef(bucket="b", key=f"feeds/bench/{Path(path).name}", etag="e")
    started = time.perf_counter()
    with open(path, "rb") as stream:
        summary = ingest.ingest(
            stream, ref, sink=sink, ledger=ledger, providers=MemoryProviders(everyone=True)
        )
    read = time.perf_counter() - started
    job = ledger.jobs[summary.job_id].model_copy(
        update={"format": summary.format, "records_read": summary.records_read, "status": "completed"}
    )
    reports = Reports()
    completion.FeedFinisher(Finishing(ledger), None, None, reports, None, None)._write_report(
        job, clock.now()
    )
    rejects = {r.position: r.reason for r in ledger.rejects.get(summary.job_id, {}).values()}
    print(
        json.dumps(
            {
                "format": summary.format,
                "records_read": summary.records_read,
                "sent": sink.records,
                "rejects": rejects,
                "read_seconds": round(read, 2),
                "report_bytes": reports.sizes.get(completion.report_key(ref.key), 0),
                "rejects_file_bytes": reports.sizes.get(completion.rejects_key(ref.key, summary.format), 0),
            }
        )
    )


def measure(command: list[str]) -> tuple[dict | None, float, float]:
    """Run a command; its JSON output, its peak RSS in MB (ru_maxrss of that child) and seconds."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(PATHS))
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    try:
        found = json.loads(text[text.index("{") :]) if "{" in text else None
    except ValueError:
        found = None
    return found, usage.ru_maxrss / 1024, elapsed


def short(reason: str) -> str:
    return reason if len(reason) <= 70 else reason[:67] + "..."


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="scale the padding (default 1: the issue's)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_ingest(args.child[1])
        return
    netzone = str(Path(sys.executable).parent / "netzone")
    with tempfile.TemporaryDirectory() as folder:
        print(f"making the hostile files (scale {args.scale}) ...", flush=True)
        files = make_files(Path(folder), args.scale)
        print()
        print(
            "| file | hostile part | gzip | ingest peak | check peak | ingest s | check s | outcomes | rejects file | report |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for name, path, what in files:
            ingest, ingest_mb, ingest_s = measure([sys.executable, __file__, "--child", "ingest", str(path)])
            check, check_mb, check_s = measure(
                [netzone, "feed", "check", str(path), "--json", "--max-rejects", "3"]
            )
            if ingest is not None:
                outcomes = (
                    f"{ingest['records_read']} read, {ingest['sent']} sent, {len(ingest['rejects'])} rejected"
                )
                files_bytes = f"{ingest['rejects_file_bytes']:,} B"
                report_bytes = f"{ingest['report_bytes']:,} B"
            else:
                outcomes, files_bytes, report_bytes = "ingest failed", "-", "-"
            agree = (
                check is not None
                and ingest is not None
                and check["records_read"] == ingest["records_read"]
                and check["rejected"] == len(ingest["rejects"])
            )
            print(
                f"| {name} | {what} | {path.stat().st_size:,} B | {ingest_mb:.1f} MB | {check_mb:.1f} MB "
                f"| {ingest_s:.1f} | {check_s:.1f} | {outcomes}{'' if agree else ' (check differs!)'} "
                f"| {files_bytes} | {report_bytes} |",
                flush=True,
            )
            if ingest is not None:
                for position, reason in sorted(ingest["rejects"].items(), key=lambda item: int(item[0]))[:3]:
                    print(f"|   | reject #{position}: {short(reason)} | | | | | | | | |")


if __name__ == "__main__":
    main()
