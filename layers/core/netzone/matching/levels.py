"""What a comparator says of one element of two records: `Level`."""

from __future__ import annotations

from typing import NamedTuple


class Level(NamedTuple):
    """What a comparator saw: the feature, its agreement level, a few words of detail, and
    whether the level is a conflict (a NamedTuple: a comparison makes twenty of these)."""

    feature: str
    level: str
    detail: str
    conflict: bool = False


def banded(feature: str, similarity: float, detail: str, bands: tuple[tuple[float, str], ...]) -> Level:
    """The level of the first band (threshold, level), highest first, that the similarity reaches;
    "differ" below them all."""
    for threshold, level in bands:
        if similarity >= threshold:
            return Level(feature, level, detail)
    return Level(feature, "differ", detail)
