"""Field-by-field comparison of two profiles, as a cataloger would read them.

Each comparator looks at one element (title, author, date, edition, extent, ...) of both
records and returns an agreement *level* ("same", "close", "differ", "missing", ...) with a short
description of what it saw. The model (model.py) turns each level into a weight learned from
labelled pairs; the levels are deliberately coarse so that each weight means something.

Some levels are *conflicts*: they say the records describe different manifestations whatever
else agrees (another edition, volume, carrier, or a date too far apart). Those cap the decision
at "review" even when identifiers agree.

The comparators of content live in `title_features` (the title area) and `description_features`
(the rest); this module runs them in a fixed order (`compare_fields`), compares identifiers, and
says which levels corroborate a match.
"""

from __future__ import annotations

from collections.abc import Callable

from netzone.matching.description_features import (
    author,
    carrier,
    country,
    edition,
    height,
    host,
    imprint,
    language,
    names,
    pages,
    place,
    prelims,
    publisher,
    series,
    year,
)
from netzone.matching.levels import Level
from netzone.matching.profiles import Profile
from netzone.matching.title_features import full_title, part, subtitle, title, title_numbers

COMPARATORS: tuple[Callable[[Profile, Profile], Level], ...] = (
    title,
    full_title,
    subtitle,
    title_numbers,
    part,
    author,
    names,
    year,
    edition,
    pages,
    prelims,
    height,
    publisher,
    place,
    series,
    host,
    language,
    country,
    carrier,
)


_PUBLISHER = COMPARATORS.index(publisher)
_PLACE = COMPARATORS.index(place)


def compare_fields(a: Profile, b: Profile) -> list[Level]:
    """Every content comparison of two profiles, in a fixed order."""
    levels = [comparator(a, b) for comparator in COMPARATORS]
    levels.append(imprint(a, b, levels[_PUBLISHER], levels[_PLACE]))
    return levels


# Agreement beyond title and date: without at least one of these (or a shared identifier) two
# records are too thin to merge unseen, however alike their titles ("Hamlet", 1990).
CORROBORATING = frozenset(
    {
        ("author", "same"),
        ("author", "compatible"),
        ("author", "similar"),
        ("author", "surname"),
        ("names", "same"),
        ("names", "same_one"),
        ("names", "subset"),
        ("names", "most"),
        ("publisher", "same"),
        ("publisher", "similar"),
        ("pages", "same"),
        ("pages", "close"),
        ("place", "same"),
        ("edition", "same"),
        ("series", "same"),
        ("prelims", "same"),
        ("host", "same"),
        ("host", "acronym"),
        ("host", "similar"),
    }
)


def corroborated(levels: list[Level]) -> bool:
    """Whether something besides title and date agrees (see CORROBORATING)."""
    return any((level.feature, level.level) in CORROBORATING for level in levels)


# ---- identifiers ------------------------------------------------------------------------


def identifiers(a: Profile, b: Profile) -> list[Level]:
    """Shared or conflicting identifiers. Weights for these are set, not learned (model.py)."""
    found = []
    a_oclc, b_oclc = set(a.oclc), set(b.oclc)
    if a_oclc and b_oclc:
        if a_oclc & b_oclc:
            found.append(Level("oclc", "same", " ".join(sorted(a_oclc & b_oclc))))
        elif (a_oclc | set(a.oclc_former)) & (b_oclc | set(b.oclc_former)):
            found.append(Level("oclc", "former", "a former OCLC number of one is the other's"))
        else:
            found.append(Level("oclc", "differ", f"{sorted(a_oclc)} / {sorted(b_oclc)}"))
    a_isbn, b_isbn = set(a.isbn), set(b.isbn)
    if a_isbn and b_isbn:
        if a_isbn & b_isbn:
            found.append(Level("isbn", "same", " ".join(sorted(a_isbn & b_isbn))))
        else:
            found.append(Level("isbn", "differ", f"{sorted(a_isbn)} / {sorted(b_isbn)}"))
    elif (a_isbn | set(a.isbn_other)) & (b_isbn | set(b.isbn_other)):
        # A set ISBN, an ISBN for another carrier, or a cancelled one: weak evidence only.
        shared = (a_isbn | set(a.isbn_other)) & (b_isbn | set(b.isbn_other))
        found.append(Level("isbn", "weak", " ".join(sorted(shared))))
    if a.isbn_volumes and b.isbn_volumes and not set(a.isbn_volumes) & set(b.isbn_volumes):
        found.append(
            Level("isbn", "volumes_differ", f"v. {a.isbn_volumes[0]} / v. {b.isbn_volumes[0]}", conflict=True)
        )
    if a.lccn and b.lccn:
        if set(a.lccn) & set(b.lccn):
            found.append(Level("lccn", "same", a.lccn[0]))
        else:
            found.append(Level("lccn", "differ", f"{a.lccn[0]} / {b.lccn[0]}"))
    if a.issn and b.issn and set(a.issn) & set(b.issn):
        found.append(Level("issn", "same", a.issn[0]))
    return found
