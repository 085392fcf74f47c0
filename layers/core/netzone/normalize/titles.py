"""Titles normalized: the 245 (240, 246, 130, 730, 740) field's parts, and the numbers in a title."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pymarc import Field

from netzone.normalize.folding import fold

# Leading articles dropped when the non-filing indicator was not set (a common omission).
_ARTICLES = ("the ", "a ", "an ")
# ISBD separates the title proper from other title information (" : "), parallel titles
# (" = ") and, in older records, the rest of a title run on in $a (" ; ").
_TITLE_PROPER_END = re.compile(r"\s[:=;]\s|\s?[:;=]\s*$|\s/\s*$")


@dataclass(frozen=True, slots=True)
class Title:
    """A 245 field normalized: title proper, remainder, number and name of part."""

    proper: str  # 245 $a up to the first ISBD ":", "=" or ";", non-filing characters dropped
    remainder: str  # the rest of $a, then $b
    part_number: str  # $n
    part_name: str  # $p

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.proper, self.remainder, self.part_number, self.part_name) if p)


def title(field: Field | None) -> Title:
    """Normalize a 245 (or 240/246) field: non-filing characters, ISBD punctuation, case, accents."""
    if field is None:
        return Title("", "", "", "")
    a = " ".join(field.get_subfields("a"))
    # Non-filing characters: 245 and 240 give them in the second indicator, 130 and 730 in
    # the first; 246 and 740 have none (740 ind1 is non-filing too).
    skip = (
        field.indicator2
        if field.tag in ("245", "240")
        else field.indicator1
        if field.tag in ("130", "730", "740")
        else "0"
    )
    if skip and skip.isdigit() and 0 < int(skip) < len(a):
        a = a[int(skip) :]
    split = _TITLE_PROPER_END.search(a)
    proper, rest = (a[: split.start()], a[split.end() :]) if split else (a, "")
    proper = fold(proper)
    if proper.startswith(_ARTICLES) and skip in ("0", " ", ""):
        proper = proper.split(" ", 1)[1]
    remainder = fold(" ".join([rest, *field.get_subfields("b")]))
    return Title(
        proper=proper,
        remainder=remainder,
        part_number=fold(" ".join(field.get_subfields("n"))),
        part_name=fold(" ".join(field.get_subfields("p"))),
    )


_ROMAN = re.compile(r"^(?=[mdclxvi])m{0,4}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"m": 1000, "d": 500, "c": 100, "l": 50, "x": 10, "v": 5, "i": 1}


def roman(text: str) -> int | None:
    """The value of a lower-case Roman numeral ("xiv" -> 14), or None."""
    if not text or not _ROMAN.match(text):
        return None
    total = 0
    for current, following in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN_VALUES[current]
        total += -value if following and _ROMAN_VALUES[following] > value else value
    return total


_DIGITS = re.compile(r"\d+")
_ROMAN_LETTERS = frozenset("mdclxvi")
_NOT_ROMAN = frozenset({"mix", "mid", "dill", "cid", "lid", "dim", "mi", "di", "li", "vi", "civil", "ill"})


def numbers(folded: str) -> frozenset[str]:
    """The numbers written in a folded title as digits ("v 2", "fiscal year 1972", "part ii").

    Different numbers in otherwise equal titles usually mean different volumes or issues.
    """
    found = set(_DIGITS.findall(folded))
    for word in folded.split():
        if (
            len(word) > 1
            and _ROMAN_LETTERS.issuperset(word)
            and _ROMAN.match(word)
            and word not in _NOT_ROMAN
        ):
            found.add(str(roman(word)))
    return frozenset(str(int(n)) for n in found)
