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
