"""Matching speed on one core: compare() pairs per second; parse -> normalize -> keys records per second.

    PYTHONPATH=layers/core:. .venv/bin/python tests/benchmarks/bench_matching_speed.py

Prints:
  - comparisons per second on the Goldfinch val pairs (real candidate pairs): compare_profiles()
    on profiles freshly loaded from their stored form (Profile.from_dict, as record_match
    would; loading timed apart), again on profiles already compared once, and compare() on two
    MARC records (both profiles derived on the way);
  - records per second on real ISO 2709 files: bare pymarc parsing, and parsing followed by
    profile() and match_keys(), measured in the same run, alternately, best of several rounds
    (the machine is shared: rates are per CPU second of this process, and the best round is the
    least disturbed one).
Figures, not assertions. Skips with a message when ../shared/corpus is absent.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers/core"), str(ROOT)]

import pymarc  # noqa: E402

from netzone import normalize  # noqa: E402
from netzone.matching import Profile, compare, compare_profiles, default_model, match_keys, profile  # noqa: E402
from tests.benchmarks import corpora  # noqa: E402

ROUNDS = 5
FILES = (
    "evergreen/jazz_1k.mrc",
    "evergreen/lul_fre_500.mrc",
    "marc4j/test/resources/pride-and-prejudice-fixed.mrc",
)


def best_rate(work, count: int, rounds: int = ROUNDS) -> tuple[float, float]:
    """(best, median) items per second over `rounds` runs of `work`."""
    rates = []
    for _ in range(rounds):
        gc.collect()
        started = time.process_time()  # CPU time of this process: one core, whatever else runs
        work()
        rates.append(count / max(time.process_time() - started, 1e-9))
    return max(rates), statistics.median(rates)


def comparisons() -> None:
    records, pairs = corpora.goldfinch("val")
    stored = {rid: profile(record).to_dict() for rid, record in records.items()}
    default_model()
    print(f"compare on the {len(pairs)} Goldfinch val pairs (real candidate pairs), one core:")
    loaded: dict[str, Profile] = {}

    def load():
        loaded.clear()
        loaded.update((rid, Profile.from_dict(data)) for rid, data in stored.items())

    def cold():
        # each profile's derived sets (trigrams, numbers) are computed on its first comparison,
        # as when record_match loads a record's and its candidates' profiles from storage
        for a, b, _ in pairs:
            compare_profiles(loaded[a], loaded[b])

    def warm():
        for a, b, _ in pairs:
            compare_profiles(loaded[a], loaded[b])

    sample = pairs[:2000]

    def records_too():
        for a, b, _ in sample:
            compare(records[a], records[b])

    cold_rates, load_rates = [], []
    for _ in range(ROUNDS):
        load_rates.append(best_rate(load, len(stored), 1)[0])
        cold_rates.append(best_rate(cold, len(pairs), 1)[0])
    print(
        f"  {'Profile.from_dict (stored profile -> Profile)':60s} {max(load_rates):8.0f} profiles/s (median {statistics.median(load_rates):.0f})"
    )
    print(
        f"  {'compare_profiles, first comparison of each loaded profile':60s} {max(cold_rates):8.0f} pairs/s (median {statistics.median(cold_rates):.0f})"
    )
    for name, work, count in (
        ("compare_profiles, profiles compared before", warm, len(pairs)),
        ("compare(record, record): both profiles derived from MARC", records_too, len(sample)),
    ):
        best, median = best_rate(work, count)
        print(f"  {name:60s} {best:8.0f} pairs/s (median {median:.0f})")


def parsing() -> None:
    print(f"\nparse -> normalize -> keys vs bare pymarc parsing, same file, same run, best of {ROUNDS}:")
    print(f"  {'file':48s} {'records':>7s} {'pymarc rec/s':>13s} {'+profile+keys':>14s} {'ratio':>6s}")
    for name in FILES:
        data = (corpora.CORPUS / name).read_bytes()

        def reader(data: bytes = data):
            return pymarc.MARCReader(data, to_unicode=True, force_utf8=False, utf8_handling="replace")

        count = sum(1 for record in reader() if record is not None)

        def bare():
            for _record in reader():
                pass

        def full():
            # normalize caches recurring strings (places, publishers); a feed is read once, so
            # every round starts cold, as the first pass over a feed would
            normalize.fold.cache_clear()
            normalize.isbn.cache_clear()
            for record in reader():
                if record is not None:
                    match_keys(profile(record))

        bare_rates, full_rates = [], []
        for _ in range(ROUNDS):  # alternate, so both see the same machine load
            bare_rates.append(best_rate(bare, count, 1)[0])
            full_rates.append(best_rate(full, count, 1)[0])
        b, f = max(bare_rates), max(full_rates)
        print(f"  {name:48s} {count:7d} {b:13.0f} {f:14.0f} {f / b:6.0%}")


def main() -> None:
    if not corpora.available():
        print(corpora.skip_message())
        return
    import logging
    import warnings

    logging.getLogger("pymarc").setLevel(logging.ERROR)  # broken records are read on purpose
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    comparisons()
    parsing()
    print(f"\ndone in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
