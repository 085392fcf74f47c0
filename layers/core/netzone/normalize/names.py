"""Personal and corporate names normalized: a heading, a surname."""

from __future__ import annotations

import re

from netzone.normalize.folding import fold

_NAME_DATES = re.compile(r"\b\d{3,4}\b.*$")


def name(text: str | None) -> str:
    """A personal or corporate name as a heading, folded, dates and trailing relator dropped.

    "Abercrombie, John, 1780-1844." -> "abercrombie john".
    """
    if not text:
        return ""
    return _NAME_DATES.sub("", fold(text)).strip()


_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})


def surname(text: str | None) -> str:
    """The family name of a personal name, inverted ("Wilson, Henry") or direct ("Henry Wilson").

    Inverted headings (a comma) give the part before the comma; direct order gives the last word.
    """
    if not text:
        return ""
    head, comma, _ = text.partition(",")
    # Trailing numbers are dates or a bibliography's homonym counter ("Stefan Fischer 0003");
    # "Jr." and "III" follow a surname in direct order.
    words = [w for w in fold(head).split() if not w.isdigit()]
    while len(words) > 1 and not comma and words[-1] in _NAME_SUFFIXES:
        words.pop()
    if not words:
        return ""
    return " ".join(words) if comma else words[-1]
