"""Measures of likeness the comparators use: of sets (trigrams, words) and of words with abbreviations."""

from __future__ import annotations

from netzone.matching.profiles import trigrams


def jaccard(a: frozenset, b: frozenset) -> float:
    """Shared members over all members of two sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def containment(a: frozenset, b: frozenset) -> float:
    """The share of the smaller set found in the larger one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def words_agree(x: str, y: str) -> bool:
    """Two words agree when equal or one abbreviates the other ("p" / "press", "govt" / "government")."""
    if x == y:
        return True
    short, long = (x, y) if len(x) < len(y) else (y, x)
    if long.startswith(short):
        return True
    if short[0] != long[0] or len(short) < 2:
        return False
    position = 0
    for char in short:  # a contraction: the letters of the short word, in order, in the long one
        position = long.find(char, position) + 1
        if position == 0:
            return False
    return True


def word_agreement(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Dice coefficient over words, counting abbreviations as agreement."""
    if not a or not b:
        return 0.0
    unused = list(b)
    matched = 0
    for word in a:
        for i, other in enumerate(unused):
            if words_agree(word, other):
                matched += 1
                del unused[i]
                break
    return 2 * matched / (len(a) + len(b))


def prefix_similarity(shorter: str, longer: str) -> float:
    """How closely `shorter` matches the start of `longer` (one title has a subtitle run on)."""
    return jaccard(trigrams(shorter), trigrams(longer[: len(shorter) + 2]))
