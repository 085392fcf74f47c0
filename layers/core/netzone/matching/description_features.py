"""Comparators of the rest of the description: names, date, edition, extent, publisher and place,
series, host item, language, country and carrier."""

from __future__ import annotations

from netzone.matching.levels import Level
from netzone.matching.profiles import Profile
from netzone.matching.similarity import containment, jaccard, word_agreement, words_agree

_COMPONENT = frozenset("ab")


def _forenames_agree(x: list[str], y: list[str]) -> bool:
    return all(p[0] == q[0] and (p.startswith(q) or q.startswith(p)) for p, q in zip(x, y, strict=False))


def author(a: Profile, b: Profile) -> Level:
    """The main entry (1XX): a person, a corporate body or a meeting.

    Not compared for component parts (articles): their authors are listed in any order, so the
    first is no main entry; `names` compares them all.
    """
    if a.level in _COMPONENT and b.level in _COMPONENT:
        return Level("author", "none", "component parts: see names")
    if not a.author and not b.author:
        return Level("author", "none", "")
    if not a.author or not b.author:
        present, other = (a, b) if a.author else (b, a)
        head = present.author.split()[0]
        if head in other.name_words:
            return Level("author", "one_named_in_other", f"{present.author[:30]!r} named in the other")
        return Level("author", "one", f"{present.author[:30]!r} in one only")
    if a.author == b.author:
        return Level("author", "same", a.author[:40])
    x, y = a.author.split(), b.author.split()
    if a.author_kind == b.author_kind == "person" and a.names and b.names and a.names[0] == b.names[0]:
        surname_words = len(a.names[0].split())
        if _forenames_agree(x[surname_words:], y[surname_words:]):
            return Level("author", "compatible", f"{a.author[:30]!r} / {b.author[:30]!r}")
        return Level("author", "surname", f"{a.author[:30]!r} / {b.author[:30]!r}")
    similarity = jaccard(a.author_words, b.author_words)
    detail = f"{a.author[:30]!r} / {b.author[:30]!r}"
    if similarity >= 0.5 or a.author.startswith(b.author) or b.author.startswith(a.author):
        return Level("author", "similar", detail)
    if x[0] in b.name_words or y[0] in a.name_words:
        return Level("author", "named_in_other", detail)
    return Level("author", "differ", detail)


def names(a: Profile, b: Profile) -> Level:
    """All personal names (100 and 700 surnames): the authors of an article or a book."""
    if not a.names or not b.names:
        return Level("names", "missing", "")
    x, y = a.name_keys, b.name_keys
    if x == y:
        return Level("names", "same" if len(x) > 1 else "same_one", f"{len(x)} names")
    shared = len(x & y)
    detail = f"{shared} of {len(x | y)} names shared"
    if shared == min(len(x), len(y)):
        return Level("names", "subset", detail)
    if shared / len(x | y) >= 0.5:
        return Level("names", "most", detail)
    if shared:
        return Level("names", "some", detail)
    return Level("names", "none_shared", detail)


def year(a: Profile, b: Profile) -> Level:
    """Date of publication (008 Date1, else 260/264 $c), with the other dates each record gives."""
    if a.year is None or b.year is None:
        return Level("year", "missing", "")
    gap = abs(a.year - b.year)
    detail = f"{a.year} / {b.year}"
    if gap == 0:
        return Level("year", "same", str(a.year))
    if a.year in b.all_years or b.year in a.all_years:
        return Level("year", "explained", f"{detail}, the other date is also given")
    if gap == 1:
        return Level("year", "one_apart", detail)
    if gap <= 3:
        return Level("year", "few_apart", detail, conflict=True)
    return Level("year", "far_apart", detail, conflict=True)


def edition(a: Profile, b: Profile) -> Level:
    """Edition statement (250 $a): "2nd ed." = "Second edition"; 2nd vs 3rd is a conflict."""
    if not a.edition_words and not b.edition_words:
        return Level("edition", "none", "")
    if not a.edition_words or not b.edition_words:
        present = a if a.edition_words else b
        if present.edition == 1:
            return Level("edition", "one_first", f"{present.edition_words!r} in one only")
        return Level("edition", "one", f"{present.edition_words!r} in one only")
    detail = f"{a.edition_words!r} / {b.edition_words!r}"
    if a.edition is not None and b.edition is not None:
        if a.edition != b.edition:
            return Level("edition", "differ", detail, conflict=True)
        return Level("edition", "same", detail)
    if a.edition_words == b.edition_words:
        return Level("edition", "same", detail)
    return Level("edition", "unclear", detail)


def pages(a: Profile, b: Profile) -> Level:
    """Extent (300 $a): pages or leaves, and volumes."""
    if a.volumes is not None and b.volumes is not None and a.volumes != b.volumes:
        return Level("pages", "volumes_differ", f"{a.volumes} / {b.volumes} v.", conflict=True)
    if a.pages is None or b.pages is None:
        return Level("pages", "missing", "")
    gap = abs(a.pages - b.pages)
    detail = f"{a.pages} / {b.pages}"
    if gap == 0:
        return Level("pages", "same", str(a.pages))
    if gap <= 3:
        return Level("pages", "close", detail)
    if gap <= 0.1 * max(a.pages, b.pages):
        return Level("pages", "near", detail)
    return Level("pages", "differ", detail)


def prelims(a: Profile, b: Profile) -> Level:
    """Roman-numbered preliminary pages ("xiii, 322 p."): a cheap fingerprint of the printing."""
    if a.prelims is None or b.prelims is None:
        return Level("prelims", "missing", "")
    if a.prelims == b.prelims:
        return Level("prelims", "same", str(a.prelims))
    return Level("prelims", "differ", f"{a.prelims} / {b.prelims}")


def height(a: Profile, b: Profile) -> Level:
    """Dimensions (300 $c) in centimetres."""
    if a.height is None or b.height is None:
        return Level("height", "missing", "")
    gap = abs(a.height - b.height)
    if gap == 0:
        return Level("height", "same", f"{a.height} cm")
    if gap <= 1:
        return Level("height", "close", f"{a.height} / {b.height} cm")
    return Level("height", "differ", f"{a.height} / {b.height} cm")


def publisher(a: Profile, b: Profile) -> Level:
    """Publisher (264/260 $b), any named in one against any in the other, word by word with
    abbreviations ("Govt. Print. Off." / "Government Printing Office"): a soft signal."""
    if not a.publisher or not b.publisher:
        return Level("publisher", "missing", "")
    if a.publisher == b.publisher:
        return Level("publisher", "same", a.publisher[:40])
    agreement = max(word_agreement(x, y) for x in a.publisher_words for y in b.publisher_words)
    detail = f"{a.publisher[:30]!r} / {b.publisher[:30]!r}"
    if agreement >= 0.65:
        return Level("publisher", "similar", detail)
    if agreement > 0:
        return Level("publisher", "partly", detail)
    return Level("publisher", "differ", detail)


def place(a: Profile, b: Profile) -> Level:
    """Place of publication (264/260 $a): any place of one against any of the other."""
    if not a.place_words or not b.place_words:
        return Level("place", "missing", "")
    detail = f"{a.place[:20]!r} / {b.place[:20]!r}"
    if a.place_words & b.place_words:
        return Level("place", "same", detail)
    if any(words_agree(x, y) for x in a.place_words for y in b.place_words):
        return Level("place", "same", detail)
    return Level("place", "differ", detail)


def imprint(a: Profile, b: Profile, publisher_level: Level, place_level: Level) -> Level:
    """Another publisher in another place and country: a co-edition or an issue for another
    market ("London: Methuen" / "New York: McClure"), which catalogers describe separately."""
    if (
        publisher_level.level == "differ"
        and place_level.level == "differ"
        and a.country
        and b.country
        and a.country != b.country
        and "|" not in a.country + b.country
    ):
        return Level("imprint", "differ", f"{a.country} / {b.country}", conflict=True)
    return Level("imprint", "none", "")


def series(a: Profile, b: Profile) -> Level:
    """Series statement (490 $a $v): another number in the same series is another book."""
    if not a.series and not b.series:
        return Level("series", "none", "")
    if not a.series or not b.series:
        return Level("series", "one", "")
    same_series = word_agreement(tuple(a.series.split()[:6]), tuple(b.series.split()[:6])) >= 0.5
    if (
        a.series_number
        and b.series_number
        and not set(a.series_number.split()) & set(b.series_number.split())
    ):
        detail = f"no. {a.series_number} / no. {b.series_number}"
        if same_series:  # the same series, another number: another book
            return Level("series", "number_differs", detail, conflict=True)
        return Level("series", "differ", detail)
    if same_series:
        return Level("series", "same", a.series[:40])
    return Level("series", "differ", f"{a.series[:30]!r} / {b.series[:30]!r}")


def host(a: Profile, b: Profile) -> Level:
    """Host item (773 $t) of a component part: the journal or proceedings of an article."""
    if not a.host and not b.host:
        return Level("host", "none", "")
    if not a.host or not b.host:
        return Level("host", "one", "")
    if a.host == b.host:
        return Level("host", "same", a.host[:40])
    detail = f"{a.host[:30]!r} / {b.host[:30]!r}"
    x, y = a.host.split(), b.host.split()
    if _is_acronym(x, y) or _is_acronym(y, x):
        return Level("host", "acronym", detail)
    agreement = word_agreement(tuple(x), tuple(y))
    if agreement >= 0.5 or containment(a.host_words, b.host_words) >= 0.5:
        return Level("host", "similar", detail)
    if agreement > 0:
        return Level("host", "partly", detail)
    return Level("host", "differ", detail)


_MINOR_WORDS = frozenset(
    ["a", "an", "and", "the", "of", "on", "for", "in", "to", "de", "la", "der", "die", "des", "du", "et"]
)


def _is_acronym(short: list[str], long: list[str]) -> bool:
    """ "vldb" for "very large data bases"; "tods" in "acm transactions on database systems tods"."""
    initials = "".join(w[0] for w in long if w not in _MINOR_WORDS)
    return any(len(w) >= 3 and w in initials for w in short if w not in long)


def language(a: Profile, b: Profile) -> Level:
    """Language (008/35-37): a translation is another manifestation."""
    if not a.language or not b.language or "|" in a.language + b.language:
        return Level("language", "missing", "")
    if a.language == b.language:
        return Level("language", "same", a.language)
    if "und" in (a.language, b.language) or "mul" in (a.language, b.language):
        return Level("language", "missing", f"{a.language} / {b.language}")
    return Level("language", "differ", f"{a.language} / {b.language}")


def country(a: Profile, b: Profile) -> Level:
    """Place of publication code (008/15-17)."""
    if not a.country or not b.country or "|" in a.country + b.country or "xx" in (a.country, b.country):
        return Level("country", "missing", "")
    if a.country == b.country:
        return Level("country", "same", a.country)
    return Level("country", "differ", f"{a.country} / {b.country}")


def carrier(a: Profile, b: Profile) -> Level:
    """Content type, bibliographic level and carrier: print, electronic and microform never merge."""
    if a.content != b.content:
        return Level("format", "content_differs", f"{a.content} / {b.content}", conflict=True)
    if a.carrier != b.carrier:
        return Level("format", "carrier_differs", f"{a.carrier} / {b.carrier}", conflict=True)
    if a.level != b.level:
        if (a.level in _COMPONENT) != (b.level in _COMPONENT):  # an article and a book
            return Level("format", "part_vs_whole", f"Leader/07 {a.level} / {b.level}", conflict=True)
        return Level("format", "level_differs", f"Leader/07 {a.level} / {b.level}")
    return Level("format", "same", f"{a.content}, {a.carrier}")
