"""Scoring and deciding: a logistic model over the agreement levels, with conflicts as a ceiling.

The score is the probability that two records describe one manifestation:

    score = 1 / (1 + exp(-(bias + sum of the weight of each observed level)))

The weight of each level of each content feature was learned offline from labelled pairs
(tools/fit_matching.py) and is shipped in weights.json; each feature has a
reference level (usually "missing"/"none") whose weight is 0, so a weight reads as "how much
this observation moves the odds compared with knowing nothing". Identifier weights are set by
hand (the labelled sets hold no identifiers) and documented in the same file.

Decision, in order:
  - a conflict (another edition, volume or part, carrier, content type, a date beyond
    tolerance) never gives "match": "review" when the score or a shared identifier says the
    records are otherwise alike, else "distinct";
  - score >= thresholds.match gives "match" (auto-merge), provided something besides the
    title and the date agrees (author, publisher, pages, ...: features.CORROBORATING) or an
    identifier is shared; otherwise "review";
  - score >= thresholds.review gives "review" (a cataloger decides);
  - otherwise "distinct".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal, NamedTuple

from netzone.matching import features
from netzone.matching.levels import Level
from netzone.matching.profiles import Profile

Decision = Literal["match", "review", "distinct"]
STRONG_IDENTIFIERS = frozenset({"oclc", "isbn", "lccn"})


class Evidence(NamedTuple):
    """One observation and what it contributed to the score (log-odds; + for match)."""

    feature: str
    level: str
    detail: str
    weight: float
    conflict: bool = False

    def __str__(self) -> str:
        flag = "  CONFLICT" if self.conflict else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.feature}: {self.level}{detail} {self.weight:+.2f}{flag}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of comparing two records."""

    score: float  # 0..1, the probability of one manifestation
    decision: Decision
    evidence: tuple[Evidence, ...]
    reason: str  # one sentence: why this decision

    @property
    def conflicts(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.conflict)

    def explain(self) -> str:
        """The comparison as a cataloger would read it, strongest evidence first."""
        lines = [f"{self.decision} (score {self.score:.3f}): {self.reason}"]
        for item in sorted(self.evidence, key=lambda e: -abs(e.weight)):
            if item.weight or item.conflict or item.level not in ("missing", "none"):
                lines.append(f"  {item}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "score": round(self.score, 6),
            "decision": self.decision,
            "reason": self.reason,
            "evidence": [
                {
                    "feature": e.feature,
                    "level": e.level,
                    "detail": e.detail,
                    "weight": round(e.weight, 4),
                    "conflict": e.conflict,
                }
                for e in self.evidence
            ],
        }


@dataclass(frozen=True, slots=True)
class Scorer:
    """The fitted parameters for one kind of material (monographs, or component parts)."""

    bias: float
    weights: dict[str, dict[str, float]]  # feature -> level -> weight
    match_threshold: float
    review_threshold: float
    conflict_review_threshold: float

    # the same weights keyed by (feature, level): one look-up per observation
    flat: dict[tuple[str, str], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        flat = {(f, lv): w for f, levels in self.weights.items() for lv, w in levels.items()}
        object.__setattr__(self, "flat", flat)

    @classmethod
    def from_dict(cls, data: dict) -> Scorer:
        return cls(
            bias=float(data["bias"]),
            weights={f: {lv: float(w) for lv, w in levels.items()} for f, levels in data["weights"].items()},
            match_threshold=float(data["thresholds"]["match"]),
            review_threshold=float(data["thresholds"]["review"]),
            conflict_review_threshold=float(data["thresholds"]["conflict_review"]),
        )

    def logit(self, levels: list[Level]) -> float:
        """The log-odds of a match from content levels only (the fitting script uses this)."""
        total = self.bias
        for level in levels:
            total += self.weights.get(level.feature, {}).get(level.level, 0.0)
        return total


_COMPONENT_LEVELS = frozenset("ab")  # Leader/07: component part of a monograph or a serial


def kind_of(a: Profile, b: Profile) -> str:
    """Which scorer judges a pair: "component" for two articles or chapters, else "monograph"."""
    return "component" if a.level in _COMPONENT_LEVELS and b.level in _COMPONENT_LEVELS else "monograph"


@dataclass(frozen=True, slots=True)
class Model:
    scorers: dict[str, Scorer]  # by kind_of()
    identifier_weights: dict[str, dict[str, float]]

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        return cls(
            scorers={kind: Scorer.from_dict(part) for kind, part in data["scorers"].items()},
            identifier_weights={
                f: {lv: float(w) for lv, w in levels.items()}
                for f, levels in data["identifier_weights"].items()
            },
        )

    def compare(self, a: Profile, b: Profile) -> Comparison:
        scorer = self.scorers[kind_of(a, b)]
        weights = scorer.flat
        total = scorer.bias
        evidence = []
        content = features.compare_fields(a, b)
        for feature, level, detail, conflict in content:
            weight = weights.get((feature, level), 0.0)
            total += weight
            evidence.append(Evidence(feature, level, detail, weight, conflict))
        shared_identifier = False
        for feature, level, detail, conflict in features.identifiers(a, b):
            weight = self.identifier_weights.get(feature, {}).get(level, 0.0)
            total += weight
            shared_identifier |= feature in STRONG_IDENTIFIERS and level == "same"
            evidence.append(Evidence(feature, level, detail, weight, conflict))
        score = _sigmoid(total)
        conflicts = [e for e in evidence if e.conflict]
        if conflicts:
            names = ", ".join(f"{e.feature} {e.level.replace('_', ' ')}" for e in conflicts)
            if score >= scorer.conflict_review_threshold or shared_identifier:
                decision: Decision = "review"
                reason = f"alike, but a conflict rules out an automatic merge: {names}"
            else:
                decision = "distinct"
                reason = f"different manifestations: {names}"
        elif score >= scorer.match_threshold and not (shared_identifier or features.corroborated(content)):
            decision, reason = "review", "only the title and the date agree: too little to merge unseen"
        elif score >= scorer.match_threshold:
            decision, reason = "match", "the same manifestation"
        elif score >= scorer.review_threshold:
            decision, reason = "review", "probably the same, not certain enough to merge"
        else:
            decision, reason = "distinct", "different resources"
        return Comparison(score=score, decision=decision, evidence=tuple(evidence), reason=reason)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@cache
def default_model() -> Model:
    """The fitted parameters shipped with the layer (weights.json beside this module)."""
    text = resources.files("netzone.matching").joinpath("weights.json").read_text(encoding="utf-8")
    return Model.from_dict(json.loads(text))
