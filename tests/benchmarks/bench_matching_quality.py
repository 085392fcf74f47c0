"""Matching quality: precision, recall and F1 beside the peers' published figures.

    PYTHONPATH=layers/core:. .venv/bin/python tests/benchmarks/bench_matching_quality.py

Prints, for each labelled set in ../shared/corpus:
  - Goldfinch val (HathiTrust monographs, no identifiers): grouped 5-fold cross-validation of
    the whole fitting procedure (tools/fit_matching.py), thresholds chosen inside
    each training fold; beside the CDL models' published val predictions and the notes'
    figures for GoldRush and Open Library (test split);
  - Magellan DBLP-ACM valid (Structured), mapped to MARC: the shipped model, whose component
    scorer was fitted on DBLP-ACM train only; beside Magellan and Ditto (test split);
  - pymarc_dedupe's human-labelled SCSB/Princeton pairs and GOLD_PAIRS.csv: the shipped model
    (never fitted on them);
  - blocking: the share of true pairs that share at least one match key, and candidates per
    record, on the pooled Goldfinch val records and on the full Leipzig DBLP-ACM tables.

Each at two operating points: "match" (auto-merge) and "match or review".
Figures, not assertions. Skips with a message when ../shared/corpus is absent.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers/core"), str(ROOT)]

from netzone.matching import compare, compare_profiles, match_keys, profile  # noqa: E402
from tests.benchmarks import corpora  # noqa: E402


def prf(labels: list[int], accepted: list[bool]) -> tuple[float, float, float, int, int]:
    tp = sum(1 for y, a in zip(labels, accepted, strict=True) if y and a)
    fp = sum(1 for y, a in zip(labels, accepted, strict=True) if not y and a)
    fn = sum(labels) - tp
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), fp, fn


def row(name: str, labels: list[int], accepted: list[bool]) -> None:
    p, r, f, fp, fn = prf(labels, accepted)
    print(f"  {name:44s} P {p:.4f}  R {r:.4f}  F1 {f:.4f}   (fp {fp}, fn {fn}, n {len(labels)})")


def quoted(name: str, p: float | None, r: float | None, f: float | None) -> None:
    cells = "  ".join(
        f"{k} {v:.3f} " if v is not None else f"{k}   -   " for k, v in (("P", p), ("R", r), ("F1", f))
    )
    print(f"  {name:44s} {cells}")


def decisions_rows(title: str, labels: list[int], decisions: list[str]) -> None:
    row(f"{title}: match", labels, [d == "match" for d in decisions])
    row(f"{title}: match or review", labels, [d != "distinct" for d in decisions])


def goldfinch() -> None:
    from tools import fit_matching

    print(
        "\n== Goldfinch 1.1 val: 10,208 pairs of HathiTrust English monographs, identifiers stripped, CID removed"
    )
    started = time.perf_counter()
    examples = fit_matching.goldfinch_examples()
    print(
        "  grouped 5-fold cross-validation (folds = connected components of records; thresholds fitted per fold):"
    )
    cv = fit_matching.cross_validate(examples, "monograph", 5, log=lambda line: print("  " + line))
    for name in ("match", "match_or_review"):
        m = cv["pooled"][name]
        label = "netzone, pooled CV: " + name.replace("_", " ")
        print(
            f"  {label:44s} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}   (fp {m['fp']}, fn {m['fn']})"
        )
    print(f"  ({time.perf_counter() - started:.0f} s)")

    labels = [ex.label for ex in examples]
    print("  peers on the same val pairs (published predictions in the corpus):")
    for model, title in (
        ("20230327_cdl_goldfinch_model", "CDL Goldfinch (neural)"),
        ("2022_dodo_model", "CDL Dodo"),
    ):
        _, pairs = corpora.goldfinch("val")
        scores = corpora.goldfinch_predictions(model)
        values = [scores[(a, b)] for a, b, _ in pairs]
        for threshold in (0.5, 0.99):
            row(f"{title} @ {threshold}", labels, [s >= threshold for s in values])
        ranked = sorted(zip(values, labels, strict=True), reverse=True)
        tp = fp = 0
        best = 0.0
        for _, y in ranked:
            tp += y
            fp += 1 - y
            if tp / (tp + fp) >= 0.997:
                best = tp / sum(labels)
        print(f"  {title + ', best recall at P >= 0.997':44s} R {best:.4f}  (threshold chosen on val itself)")
    print("  peers on the withheld test split (../shared/notes/matching.md, for comparison):")
    quoted("CDL Goldfinch @ 0.5", 0.977, 0.991, 0.984)
    quoted("CDL Goldfinch @ 0.99", 0.997, 0.875, 0.932)
    quoted("Open Library threshold_match @ 875", 0.993, 0.725, 0.838)
    quoted("RecordManager-like decision list", 0.993, 0.689, 0.814)
    quoted("GoldRush key equality", 0.998, 0.504, 0.670)


def dblp() -> None:
    print("\n== Magellan Structured DBLP-ACM valid, mapped to MARC (component scorer fitted on train only)")
    pairs = corpora.magellan("Structured/DBLP-ACM", "valid")
    labels = [p.label for p in pairs]
    decisions_rows("netzone", labels, [compare(p.a, p.b).decision for p in pairs])
    print("  peers on the withheld test split:")
    quoted("Magellan (random forest)", None, None, 0.984)
    quoted("DeepMatcher (hybrid)", None, None, 0.984)
    quoted("Ditto (RoBERTa)", None, None, 0.990)
    print("  not a target (no training data of its own; transfer from DBLP-ACM), for the record:")
    pairs = corpora.magellan("Structured/DBLP-GoogleScholar", "valid")
    labels = [p.label for p in pairs]
    decisions_rows("netzone, DBLP-Scholar valid", labels, [compare(p.a, p.b).decision for p in pairs])
    quoted("Magellan on DBLP-Scholar test", None, None, 0.923)


def dedupe() -> None:
    print("\n== pymarc_dedupe: 101 human-labelled SCSB/Princeton pairs (extracted fields, mapped to MARC)")
    pairs = corpora.dedupe_pairs()
    decisions = [compare(p.a, p.b).decision for p in pairs]
    decisions_rows("netzone, as published", [p.label for p in pairs], decisions)
    clean = [(p, d) for p, d in zip(pairs, decisions, strict=True) if not p.note]
    decisions_rows(
        f"netzone, without the {len(pairs) - len(clean)} contradictory rows",
        [p.label for p, _ in clean],
        [d for _, d in clean],
    )


def gold_pairs() -> None:
    print("\n== GOLD_PAIRS.csv: curated pairs of real records (identifiers present)")
    pairs, unreadable = corpora.gold_pairs()
    decisions = [compare(p.a, p.b).decision for p in pairs]
    decisions_rows("netzone", [p.label for p in pairs], decisions)
    wrong = [p.note for p, d in zip(pairs, decisions, strict=True) if (d == "match") != bool(p.label)]
    print(
        f"  {len(pairs)} pairs scored, {len(wrong)} wrong at match{': ' + '; '.join(wrong) if wrong else ''}"
    )
    for reason in unreadable:
        print(f"  not scored (netzone.marc cannot read the file): {reason}")


def blocking() -> None:
    print("\n== Blocking: match keys (identifiers, then content keys)")
    records, pairs = corpora.goldfinch("val")
    keys = {rid: match_keys(record) for rid, record in records.items()}
    index: dict[str, set[str]] = defaultdict(set)
    for rid, ks in keys.items():
        for k in ks:
            index[k].add(rid)
    positives = [(a, b) for a, b, y in pairs if y]
    shared = sum(1 for a, b in positives if set(keys[a]) & set(keys[b]))
    candidates = [len(set().union(*(index[k] for k in ks)) - {rid}) for rid, ks in keys.items()]
    per_record = [len(ks) for ks in keys.values()]
    print(
        f"  Goldfinch val, {len(records)} records pooled: blocking recall {shared / len(positives):.4f}"
        f" ({shared} of {len(positives)} true pairs share a key); candidates per record"
        f" {sum(candidates) / len(candidates):.2f} (max {max(candidates)}); keys per record"
        f" {sum(per_record) / len(per_record):.2f} (max {max(per_record)}); longest key"
        f" {max(len(k) for ks in keys.values() for k in ks)} chars"
    )

    dblp, acm, gold = corpora.leipzig()
    profiles = {("d", i): profile(r) for i, r in dblp.items()} | {
        ("a", i): profile(r) for i, r in acm.items()
    }
    by_key: dict[str, set] = defaultdict(set)
    record_keys = {rid: match_keys(p) for rid, p in profiles.items()}
    for rid, ks in record_keys.items():
        for k in ks:
            by_key[k].add(rid)
    candidate_pairs = set()
    for ids in by_key.values():
        left = [i for kind, i in ids if kind == "d"]
        right = [i for kind, i in ids if kind == "a"]
        candidate_pairs.update((d, a) for d in left for a in right)
    found = len(gold & candidate_pairs)
    total = len(dblp) * len(acm)
    print(
        f"  Leipzig DBLP-ACM full tables ({len(dblp)} x {len(acm)}, {len(gold)} gold pairs): pair completeness"
        f" {found / len(gold):.4f}, {len(candidate_pairs)} candidate pairs, reduction ratio"
        f" {1 - len(candidate_pairs) / total:.5f}, candidates per record {2 * len(candidate_pairs) / len(profiles):.2f}"
    )
    decided = {
        pair: compare_profiles(profiles[("d", pair[0])], profiles[("a", pair[1])]).decision
        for pair in candidate_pairs
    }
    for name, accept in (("match", {"match"}), ("match or review", {"match", "review"})):
        predicted = {pair for pair, d in decided.items() if d in accept}
        tp = len(predicted & gold)
        p = tp / len(predicted) if predicted else 1.0
        r = tp / len(gold)
        print(
            f"  Leipzig end to end (keys, then compare): {name:16s} P {p:.4f}  R {r:.4f}  F1 {2 * p * r / (p + r):.4f}"
        )
    print("  peer: exact normalized-title join on the same tables (notes)  P 0.886  R 0.912  F1 0.899")


def main() -> None:
    if not corpora.available():
        print(corpora.skip_message())
        return
    started = time.perf_counter()
    gold_pairs()
    dedupe()
    dblp()
    blocking()
    goldfinch()
    print(f"\ndone in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
