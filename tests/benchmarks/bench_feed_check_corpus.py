"""`feed check` over the whole shared corpus: one row per file, totals, crashes.

Prints, for every file under ../shared/corpus: the detected format (or "not MARC"), records
read, accepted, rejected and records with warnings, and checks read = accepted + rejected.
A crash (an exception out of `ingest.check`) is counted and shown, never hidden.
Figures, not assertions: tests/unit/test_feed_check.py asserts the behaviour.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers/core")]
CORPUS = ROOT.parent / "shared" / "corpus"

from netzone import ingest  # noqa: E402


def main() -> None:
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}; skipped")
        return
    started = time.perf_counter()
    rows, crashes, unbalanced = [], [], []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        name = str(path.relative_to(CORPUS))
        try:
            with open(path, "rb") as stream:
                report = ingest.check(stream)
        except Exception:  # the point of the table: any crash is shown, not raised
            crashes.append((name, traceback.format_exc(limit=3)))
            continue
        if report.records_read != report.accepted + report.rejected:
            unbalanced.append(name)
        rows.append((name, report))
    width = max(len(name) for name, _ in rows) if rows else 10
    print(f"{'file':<{width}} {'format':<9} {'read':>6} {'accepted':>8} {'rejected':>8} {'warnings':>8}")
    marc = [(n, r) for n, r in rows if r.format and r.records_read]
    for name, report in rows:
        fmt = report.format if report.records_read else "not MARC"
        print(
            f"{name:<{width}} {fmt:<9} {report.records_read:>6} {report.accepted:>8} "
            f"{report.rejected:>8} {report.records_with_warnings:>8}"
        )
    total = [sum(getattr(r, a) for _, r in marc) for a in ("records_read", "accepted", "rejected")]
    warned = sum(r.records_with_warnings for _, r in marc)
    print(
        f"\n{len(rows) + len(crashes)} files: {len(marc)} hold MARC, {len(rows) - len(marc)} reported as "
        f"not MARC (or no records); records read {total[0]:,} = accepted {total[1]:,} + rejected "
        f"{total[2]:,}; {warned:,} with warnings"
    )
    print(f"crashes: {len(crashes)}; files where read != accepted + rejected: {len(unbalanced)}")
    for name, trace in crashes:
        print(f"  CRASH {name}\n{trace}")
    for name in unbalanced:
        print(f"  UNBALANCED {name}")
    print(f"checked in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
