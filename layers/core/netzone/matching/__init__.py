"""One record per manifestation: match keys, pair comparison and decisions. Pure, no AWS.

    from netzone.matching import compare, match_keys, profile, compare_profiles

    keys = match_keys(record)            # file the record under these keys; look up candidates
    comparison = compare(record, other)  # score 0..1, decision, evidence a cataloger can read
    comparison.decision                  # "match" (merge), "review" (ask), "distinct"

`profile(record)` derives everything matching needs once; store `profile.to_dict()` beside the
source record and use `compare_profiles(Profile.from_dict(...), ...)` later without re-parsing.
"""

from __future__ import annotations

from pymarc import Record

from netzone.matching.keys import MAX_KEY_LENGTH, MAX_KEYS, match_keys
from netzone.matching.model import Comparison, Decision, Evidence, Model, default_model
from netzone.matching.profiles import PROFILE_VERSION, Profile, profile

__all__ = [
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "PROFILE_VERSION",
    "Comparison",
    "Decision",
    "Evidence",
    "Model",
    "Profile",
    "compare",
    "compare_profiles",
    "default_model",
    "match_keys",
    "profile",
]


def compare_profiles(a: Profile, b: Profile, model: Model | None = None) -> Comparison:
    """Compare two stored profiles with the shipped model (or another fitted one)."""
    return (model or default_model()).compare(a, b)


def compare(a: Record, b: Record, model: Model | None = None) -> Comparison:
    """Compare two MARC records: `compare_profiles(profile(a), profile(b))`."""
    return compare_profiles(profile(a), profile(b), model)
