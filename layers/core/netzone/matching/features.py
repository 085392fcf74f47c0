"""Field-by-field comparison of two profiles, as a cataloger would read them.

Each comparator looks at one element (title, author, date, edition, extent, ...) of both
records and returns an agreement *level* ("same", "close", "differ", "missing", ...) with a short
description of what it saw. The model (model.py) turns each level into a weight learned from
labelled pairs; the levels are deliberately coarse so that each weight means something.

Some levels are *conflicts*: they say the records describe different manifestations whatever
else agrees (another edition, volume, carrier, or a date too far apart). Those cap the decision
at "review" even when identifiers agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from netzone.matching.profiles import Profile, trigrams


class Level(NamedTuple):
    """What a comparator saw: the feature, its agreement level, a few words of detail, and
    whether the level is a conflict (a NamedTuple: a comparison makes twenty of these)."""

    feature: str
    level: str
    detail: str
    conflict: bool = False


def _jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _containment(a: frozenset, b: frozenset) -> float:
    """The share of the smaller set found in the larger one."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _words_agree(x: str, y: str) -> bool:
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


def _word_agreement(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Dice coefficient over words, counting abbreviations as agreement."""
    if not a or not b:
        return 0.0
    unused = list(b)
    matched = 0
    for word in a:
        for i, other in enumerate(unused):
            if _words_agree(word, other):
                matched += 1
                del unused[i]
                break
    return 2 * matched / (len(a) + len(b))


# ---- the comparators -------------------------------------------------------------------


# Words of generic titles: a title made only of these ("Proceedings", "Report of the annual
# meeting", "Editorial", "Book reviews", "Selected poems") names a kind of text, not one text.
GENERIC_TITLE_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "on",
        "to",
        "from",
        "for",
        "in",
        "at",
        "by",
        "with",
        "s",
        "annual",
        "report",
        "reports",
        "proceedings",
        "transactions",
        "bulletin",
        "newsletter",
        "journal",
        "papers",
        "paper",
        "minutes",
        "abstracts",
        "statistics",
        "catalogue",
        "catalog",
        "directory",
        "yearbook",
        "handbook",
        "manual",
        "guide",
        "editorial",
        "editorials",
        "guest",
        "editor",
        "editors",
        "editor's",
        "foreword",
        "preface",
        "introduction",
        "index",
        "errata",
        "erratum",
        "letter",
        "letters",
        "news",
        "notes",
        "note",
        "announcements",
        "correspondence",
        "comments",
        "comment",
        "reply",
        "response",
        "rejoinder",
        "memoriam",
        "obituary",
        "obituaries",
        "message",
        "treasurer",
        "treasurers",
        "chair",
        "chairs",
        "president",
        "presidents",
        "column",
        "columns",
        "book",
        "books",
        "review",
        "reviews",
        "works",
        "poems",
        "selected",
        "collected",
        "complete",
        "untitled",
        "summary",
        "hearing",
        "hearings",
        "workshop",
        "conference",
        "symposium",
        "panel",
        "session",
        "sessions",
        "keynote",
        "tutorial",
        "meeting",
        "congress",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "general",
        "special",
        "issue",
        "volume",
        "part",
        "supplement",
        "appendix",
    ]
)


def _prefix_similarity(shorter: str, longer: str) -> float:
    """How closely `shorter` matches the start of `longer` (one title has a subtitle run on)."""
    return _jaccard(trigrams(shorter), trigrams(longer[: len(shorter) + 2]))


def title(a: Profile, b: Profile) -> Level:
    """The title proper (245 $a before other title information)."""
    if not a.title or not b.title:
        return Level("title", "missing", "no title proper in one record")
    if a.title == b.title:
        # "Proceedings", "Annual report", "Book review column": the title of many resources.
        if a.title_words <= GENERIC_TITLE_WORDS:
            return Level("title", "same_generic", a.title)
        if len(a.title) < 16 and a.title.count(" ") < 2:
            return Level("title", "same_short", a.title)
        return Level("title", "same", a.title[:60])
    similarity = _jaccard(a.title_trigrams, b.title_trigrams)
    detail = f"{a.title[:40]!r} / {b.title[:40]!r} ({similarity:.2f})"
    if similarity >= 0.8:
        return Level("title", "close", detail)
    # One record runs the other title information on in $a, or the other stops short.
    (shorter, _), (_, longer_full) = sorted(
        ((a.title, a.full_title), (b.title, b.full_title)), key=lambda t: len(t[0])
    )
    if len(shorter) >= 8 and _prefix_similarity(shorter, longer_full) >= 0.8:
        return Level("title", "contained", detail)
    if similarity >= 0.6:
        return Level("title", "similar", detail)
    if similarity >= 0.35:
        return Level("title", "weak", detail)
    return Level("title", "differ", detail)


def full_title(a: Profile, b: Profile) -> Level:
    """The whole title: title proper, other title information, number and name of part."""
    if not a.full_title or not b.full_title:
        return Level("full_title", "missing", "")
    if a.full_title == b.full_title:
        return Level("full_title", "same", "")
    similarity = _jaccard(a.full_title_trigrams, b.full_title_trigrams)
    detail = f"{similarity:.2f}"
    if similarity >= 0.9:
        return Level("full_title", "close", detail)
    shorter, longer = sorted((a.full_title, b.full_title), key=len)
    if longer.startswith(shorter) or (len(shorter) >= 8 and _prefix_similarity(shorter, longer) >= 0.85):
        return Level("full_title", "one_has_more", f"{longer[len(shorter) :][:40]!r} only in one")
    if similarity >= 0.7:
        return Level("full_title", "similar", detail)
    if similarity >= 0.45:
        return Level("full_title", "weak", detail)
    return Level("full_title", "differ", detail)


def subtitle(a: Profile, b: Profile) -> Level:
    """Other title information (245 $b): two different subtitles usually mean two books."""
    if not a.subtitle or not b.subtitle:
        return Level("subtitle", "missing" if not (a.subtitle or b.subtitle) else "one", "")
    if a.subtitle == b.subtitle:
        return Level("subtitle", "same", a.subtitle[:40])
    x, y = a.subtitle_trigrams, b.subtitle_trigrams
    similarity = _jaccard(x, y)
    detail = f"{a.subtitle[:30]!r} / {b.subtitle[:30]!r}"
    if similarity >= 0.7:
        return Level("subtitle", "close", detail)
    if a.subtitle.startswith(b.subtitle) or b.subtitle.startswith(a.subtitle):
        return Level("subtitle", "truncated", detail)
    if similarity >= 0.4:
        return Level("subtitle", "similar", detail)
    return Level("subtitle", "differ", detail)


def title_numbers(a: Profile, b: Profile) -> Level:
    """Numbers in the titles ("Fiscal year 1972", "v. 2", "Ninety-sixth Congress" is not one)."""
    x, y = a.title_numbers, b.title_numbers
    if not x and not y:
        return Level("title_numbers", "none", "")
    if x == y:
        return Level("title_numbers", "same", " ".join(sorted(x)))
    if x and y:
        if x <= y or y <= x:
            return Level("title_numbers", "subset", f"{sorted(x)} / {sorted(y)}")
        return Level("title_numbers", "differ", f"{sorted(x)} / {sorted(y)}", conflict=True)
    return Level("title_numbers", "one", f"{sorted(x or y)} in one title only")


def part(a: Profile, b: Profile) -> Level:
    """Number and name of part (245 $n $p): different parts are different manifestations."""
    if not a.part and not b.part:
        return Level("part", "none", "")
    if a.part == b.part:
        return Level("part", "same", a.part[:40])
    if a.part and b.part:
        return Level("part", "differ", f"{a.part[:30]!r} / {b.part[:30]!r}", conflict=True)
    return Level("part", "one", f"{(a.part or b.part)[:40]!r} in one only")


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
    similarity = _jaccard(a.author_words, b.author_words)
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
    agreement = max(_word_agreement(x, y) for x in a.publisher_words for y in b.publisher_words)
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
    if any(_words_agree(x, y) for x in a.place_words for y in b.place_words):
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
    same_series = _word_agreement(tuple(a.series.split()[:6]), tuple(b.series.split()[:6])) >= 0.5
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
    agreement = _word_agreement(tuple(x), tuple(y))
    if agreement >= 0.5 or _containment(a.host_words, b.host_words) >= 0.5:
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
