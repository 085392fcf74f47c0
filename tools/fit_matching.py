"""Fit the matching model offline and write layers/core/netzone/matching/weights.json.

    .venv/bin/python tools/fit_matching.py [--write]

What it does:
  1. Loads the labelled pairs it may learn from: the Goldfinch *val* split (HathiTrust English
     monographs, no identifiers; the CID label field is stripped on loading) and the
     Magellan Structured DBLP-ACM *train* split mapped to MARC (articles, so that component
     parts are scored sensibly). The withheld test splits are not in the corpus; DBLP-ACM
     valid, the pymarc_dedupe pairs and GOLD_PAIRS.csv are never used here (they are held out
     for bench_matching_quality.py).
  2. Turns each pair into agreement levels with netzone.matching.features (the same code the
     layer runs) and one-hot encodes them against a reference level per feature.
  3. Fits an L2-regularized logistic regression (scikit-learn, a development dependency).
  4. Chooses the thresholds on out-of-fold scores: "match" at the lowest score whose precision
     on conflict-free pairs reaches TARGET_MATCH_PRECISION, "review" at the highest score that
     keeps TARGET_REVIEW_RECALL of the true pairs in match-or-review.
  5. Reports grouped k-fold cross-validation on Goldfinch val (folds are connected components
     of the record graph, so no record is both trained on and scored), thresholds re-chosen
     inside each training fold.
  6. With --write, stores bias, weights, thresholds and the CV figures in weights.json.

The layer ships only that JSON; inference is pure Python (netzone/matching/model.py).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers/core"), str(ROOT)]

from netzone.matching import features  # noqa: E402
from netzone.matching.profiles import profile  # noqa: E402
from tests.benchmarks import corpora  # noqa: E402

WEIGHTS = ROOT / "layers/core/netzone/matching/weights.json"
FOLDS = 5
C = 1.0  # inverse L2 strength; weights are log-odds, so this keeps rare levels modest
SEED = 13

# Two scorers, one per kind of material (model.kind_of): each learns from its own labelled set
# and gets its own thresholds. Precision targets sit above the 0.997 goal: a wrong merge is
# expensive to undo, and the withheld splits will not be as kind as the out-of-fold scores.
KINDS = {
    "monograph": {
        "data": "Goldfinch 1.1 val (HathiTrust English monographs, 10,208 pairs, CID stripped)",
        "match_precision": 0.999,
        "review_recall": 0.995,
    },
    "component": {
        "data": "Magellan Structured DBLP-ACM train (articles mapped to MARC, 7,417 pairs)",
        "match_precision": 0.99,
        "review_recall": 0.995,
    },
}

# The level of each feature that means "nothing known"; its weight is 0 by construction.
REFERENCE = {
    "title": "missing",
    "full_title": "missing",
    "subtitle": "missing",
    "title_numbers": "none",
    "part": "none",
    "author": "none",
    "names": "missing",
    "year": "missing",
    "edition": "none",
    "pages": "missing",
    "prelims": "missing",
    "height": "missing",
    "publisher": "missing",
    "place": "missing",
    "series": "none",
    "host": "none",
    "language": "missing",
    "country": "missing",
    "format": "same",
    "imprint": "none",
}

# Set by hand: the labelled sets carry no identifiers. Log-odds, like the learned weights.
# A shared OCLC number or ISBN is strong but not decisive (records for two volumes, or print
# and e-book, share them); a disagreement is weak, because one manifestation often has several.
IDENTIFIER_WEIGHTS = {
    "oclc": {"same": 7.0, "former": 5.0, "differ": -2.5},
    "isbn": {"same": 5.0, "weak": 1.0, "differ": -1.5, "volumes_differ": -3.0},
    "lccn": {"same": 5.0, "differ": -2.0},
    "issn": {"same": 2.0},
}


@dataclass
class Example:
    levels: list  # features.Level
    label: int
    group: int  # connected component of the record graph: CV folds never split one


def goldfinch_examples() -> list[Example]:
    records, pairs = corpora.goldfinch("val")
    profiles = {key: profile(record) for key, record in records.items()}
    return [
        Example(features.compare_fields(profiles[a], profiles[b]), label, group)
        for (a, b, label), group in zip(pairs, corpora.components(pairs), strict=True)
    ]


def magellan_examples(split: str, dataset: str = "Structured/DBLP-ACM") -> list[Example]:
    pairs = corpora.magellan(dataset, split)
    # The Magellan splits reuse records across pairs (one component holds most of them), so
    # folds here are random pairs, not record components.
    groups = list(range(len(pairs)))
    random.Random(SEED).shuffle(groups)
    return [
        Example(features.compare_fields(profile(p.a), profile(p.b)), p.label, group)
        for p, group in zip(pairs, groups, strict=True)
    ]


def vocabulary(examples: list[Example]) -> list[tuple[str, str]]:
    seen = {(lv.feature, lv.level) for ex in examples for lv in ex.levels}
    return sorted(key for key in seen if REFERENCE.get(key[0]) != key[1])


def matrix(examples: list[Example], vocab: list[tuple[str, str]]):
    import numpy as np

    index = {key: i for i, key in enumerate(vocab)}
    x = np.zeros((len(examples), len(vocab)))
    for row, ex in enumerate(examples):
        for lv in ex.levels:
            column = index.get((lv.feature, lv.level))
            if column is not None:
                x[row, column] = 1.0
    return x


# The sign a weight may take, by level: agreement may only raise the odds (+), disagreement
# only lower them (-); other levels are free. A main entry in one record only is held to (-):
# Goldfinch's negatives were drawn from records sharing an author, so there a missing 1XX
# looks like evidence of a match, which it is not in a catalog. Without these bounds correlated levels trade
# weight in ways that fit the sample but read badly ("subtitles differ: +0.6") and carry
# over badly to records unlike the training set.
SIGNS = {
    "+": {
        "title": ("same", "same_short", "close", "contained"),
        "full_title": ("same", "close"),
        "subtitle": ("same", "close"),
        "title_numbers": ("same",),
        "part": ("same",),
        "author": ("same", "compatible"),
        "names": ("same", "same_one"),
        "year": ("same",),
        "edition": ("same",),
        "pages": ("same",),
        "prelims": ("same",),
        "height": ("same",),
        "publisher": ("same", "similar"),
        "place": ("same",),
        "series": ("same",),
        "host": ("same", "acronym", "similar"),
        "language": ("same",),
        "country": ("same",),
    },
    "-": {
        "title": ("weak", "differ"),
        "full_title": ("weak", "differ"),
        "subtitle": ("differ",),
        "title_numbers": ("differ",),
        "part": ("differ",),
        "author": ("differ", "one"),
        "names": ("none_shared",),
        "year": ("one_apart", "few_apart", "far_apart"),
        "edition": ("differ", "one"),
        "pages": ("differ", "volumes_differ"),
        "prelims": ("differ",),
        "height": ("differ",),
        "publisher": ("differ",),
        "place": ("differ",),
        "series": ("number_differs", "differ", "one"),
        "host": ("differ", "one"),
        "language": ("differ",),
        "country": ("differ",),
        "format": ("carrier_differs", "content_differs", "part_vs_whole"),
        "imprint": ("differ",),
    },
}


def _bounds(vocab: list[tuple[str, str]]) -> list[tuple[float | None, float | None]]:
    bounds = []
    for feature, level in vocab:
        if level in SIGNS["+"].get(feature, ()):
            bounds.append((0.0, None))
        elif level in SIGNS["-"].get(feature, ()):
            bounds.append((None, 0.0))
        else:
            bounds.append((None, None))
    return [*bounds, (None, None)]  # the last one is the bias's


def fit(examples: list[Example]) -> tuple[float, dict[str, dict[str, float]]]:
    """L2-regularized logistic regression with sign bounds (L-BFGS-B); the bias is not penalized."""
    import numpy as np
    from scipy.optimize import minimize

    vocab = vocabulary(examples)
    x = np.hstack([matrix(examples, vocab), np.ones((len(examples), 1))])
    y = np.array([ex.label for ex in examples], dtype=float)
    penalty = np.ones(x.shape[1]) / C
    penalty[-1] = 0.0

    def loss(w):
        z = x @ w
        # log(1 + e^z) - y z, written to stay finite for large |z|
        value = np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * w * w)
        gradient = x.T @ (1.0 / (1.0 + np.exp(-z)) - y) + penalty * w
        return value, gradient

    result = minimize(
        loss,
        np.zeros(x.shape[1]),
        jac=True,
        method="L-BFGS-B",
        bounds=_bounds(vocab),
        options={"maxiter": 5000},
    )
    weights: dict[str, dict[str, float]] = {}
    for (feature, level), weight in zip(vocab, result.x[:-1], strict=True):
        weights.setdefault(feature, {})[level] = round(float(weight), 4)
    return round(float(result.x[-1]), 4), weights


def score(examples: list[Example], bias: float, weights) -> list[float]:
    out = []
    for ex in examples:
        total = bias + sum(weights.get(lv.feature, {}).get(lv.level, 0.0) for lv in ex.levels)
        out.append(1.0 / (1.0 + math.exp(-total)))
    return out


def conflicted(ex: Example) -> bool:
    return any(lv.conflict for lv in ex.levels)


def out_of_fold(examples: list[Example], folds: int = FOLDS) -> list[float]:
    """Scores of every example from a model that did not see its group."""
    from sklearn.model_selection import GroupKFold

    scores = [0.0] * len(examples)
    for train, test in GroupKFold(n_splits=folds).split(examples, groups=[ex.group for ex in examples]):
        bias, weights = fit([examples[i] for i in train])
        for i, s in zip(test, score([examples[i] for i in test], bias, weights), strict=True):
            scores[i] = s
    return scores


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _between(higher: float, lower: float) -> float:
    """A threshold halfway (in log-odds) between two scores, so that it does not sit on either."""
    return round(1.0 / (1.0 + math.exp(-(_logit(higher) + _logit(lower)) / 2)), 6)


def choose_thresholds(examples: list[Example], scores: list[float], kind: str) -> dict[str, float]:
    """match: the lowest score whose precision on conflict-free pairs reaches the target;
    review: the highest score that keeps the target share of true pairs in match-or-review.

    The model scores discrete combinations of levels, so many pairs share a score: thresholds
    fall halfway between the last score accepted and the next one down.
    """
    target = KINDS[kind]
    by_score: dict[float, list[int]] = {}
    for ex, s in zip(examples, scores, strict=True):
        if not conflicted(ex):
            by_score.setdefault(s, [0, 0])[ex.label] += 1
    ordered = sorted(by_score, reverse=True)
    tp = fp = 0
    match_index = -1
    for i, s in enumerate(ordered):
        fp += by_score[s][0]
        tp += by_score[s][1]
        if tp / (tp + fp) >= target["match_precision"]:
            match_index = i
    if match_index < 0:
        match = 1.0
    elif match_index + 1 < len(ordered):
        match = _between(ordered[match_index], ordered[match_index + 1])
    else:
        match = ordered[match_index]
    positives = sorted((s for ex, s in zip(examples, scores, strict=True) if ex.label), reverse=True)
    needed = positives[min(len(positives) - 1, math.ceil(target["review_recall"] * len(positives)) - 1)]
    below = [s for s in scores if s < needed]
    review = _between(needed, max(below)) if below else needed
    review = min(review, match)
    return {"match": match, "review": review, "conflict_review": review}


def decide(ex: Example, s: float, thresholds: dict[str, float]) -> str:
    if conflicted(ex):
        return "review" if s >= thresholds["conflict_review"] else "distinct"
    if s >= thresholds["match"]:
        return "match" if features.corroborated(ex.levels) else "review"
    return "review" if s >= thresholds["review"] else "distinct"


def metrics(labels: list[int], decisions: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for name, accept in (("match", {"match"}), ("match_or_review", {"match", "review"})):
        tp = sum(1 for y, d in zip(labels, decisions, strict=True) if y and d in accept)
        fp = sum(1 for y, d in zip(labels, decisions, strict=True) if not y and d in accept)
        fn = sum(labels) - tp
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        out[name] = {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return out


def cross_validate(examples: list[Example], kind: str, folds: int = FOLDS, log=print) -> dict:
    """Grouped k-fold CV; thresholds are chosen inside each training fold from its own
    out-of-fold scores, then applied to the held-out fold."""
    from sklearn.model_selection import GroupKFold

    labels, decisions, per_fold = [], [], []
    for k, (train_i, test_i) in enumerate(
        GroupKFold(n_splits=folds).split(examples, groups=[ex.group for ex in examples])
    ):
        train = [examples[i] for i in train_i]
        test = [examples[i] for i in test_i]
        bias, weights = fit(train)
        thresholds = choose_thresholds(train, score(train, bias, weights), kind)
        fold_decisions = [
            decide(ex, s, thresholds) for ex, s in zip(test, score(test, bias, weights), strict=True)
        ]
        fold_labels = [ex.label for ex in test]
        m = metrics(fold_labels, fold_decisions)
        per_fold.append({"fold": k, "thresholds": thresholds, **m})
        log(
            f"    fold {k}: match P {m['match']['precision']:.4f} R {m['match']['recall']:.4f}"
            f" | match-or-review P {m['match_or_review']['precision']:.4f} R {m['match_or_review']['recall']:.4f}"
            f" | match >= {thresholds['match']:.3f}, review >= {thresholds['review']:.3f}"
        )
        labels += fold_labels
        decisions += fold_decisions
    return {"folds": folds, "pooled": metrics(labels, decisions), "per_fold": per_fold}


def fit_kind(examples: list[Example], kind: str, folds: int = FOLDS) -> dict:
    """The final scorer of one kind: fitted on all its examples, thresholds from out-of-fold scores."""
    bias, weights = fit(examples)
    thresholds = choose_thresholds(examples, score(examples, bias, weights), kind)
    return {
        "fitted_on": KINDS[kind]["data"],
        "targets": {k: v for k, v in KINDS[kind].items() if k != "data"},
        "bias": bias,
        "weights": weights,
        "thresholds": thresholds,
    }


def print_metrics(title: str, m: dict) -> None:
    for name in ("match", "match_or_review"):
        x = m[name]
        print(
            f"  {title} {name:16s} P {x['precision']:.4f} R {x['recall']:.4f} F1 {x['f1']:.4f} (fp {x['fp']}, fn {x['fn']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {WEIGHTS.relative_to(ROOT)}")
    parser.add_argument("--folds", type=int, default=FOLDS)
    args = parser.parse_args()
    if not corpora.available():
        print(corpora.skip_message())
        return
    started = time.perf_counter()
    data = {"monograph": goldfinch_examples(), "component": magellan_examples("train")}
    print(
        f"loaded {len(data['monograph'])} Goldfinch val and {len(data['component'])} DBLP-ACM train pairs"
        f" in {time.perf_counter() - started:.1f} s"
    )
    document = {
        "format": "netzone-matching-weights",
        "version": 2,
        "model": "logistic regression over agreement levels (netzone.matching.features), one scorer per kind",
        "regularization_C": C,
        "reference_levels": REFERENCE,
        "scorers": {},
        "identifier_weights": IDENTIFIER_WEIGHTS,
        "identifier_weights_note": "set by hand, not learned: the labelled sets carry no identifiers",
    }
    for kind, examples in data.items():
        print(f"{kind}: grouped {args.folds}-fold cross-validation on {KINDS[kind]['data']}")
        cv = cross_validate(examples, kind, args.folds)
        print_metrics("pooled", cv["pooled"])
        scorer = fit_kind(examples, kind, args.folds)
        scorer["cross_validation"] = {
            k: {m: round(v, 4) for m, v in d.items()} for k, d in cv["pooled"].items()
        }
        document["scorers"][kind] = scorer
        print(f"  final: bias {scorer['bias']:+.3f}, thresholds {scorer['thresholds']}")
    held_out = magellan_examples("valid")
    scorer = document["scorers"]["component"]
    decisions = [
        decide(ex, s, scorer["thresholds"])
        for ex, s in zip(held_out, score(held_out, scorer["bias"], scorer["weights"]), strict=True)
    ]
    print_metrics("DBLP-ACM valid (held out)", metrics([ex.label for ex in held_out], decisions))
    if args.write:
        WEIGHTS.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS.relative_to(ROOT)}")
    print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
