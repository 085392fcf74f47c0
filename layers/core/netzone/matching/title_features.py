"""Comparators of the title area (245): title proper, whole title, subtitle, numbers, part."""

from __future__ import annotations

from netzone.matching.levels import Level, banded
from netzone.matching.profiles import Profile
from netzone.matching.similarity import jaccard, prefix_similarity

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
    similarity = jaccard(a.title_trigrams, b.title_trigrams)
    detail = f"{a.title[:40]!r} / {b.title[:40]!r} ({similarity:.2f})"
    if similarity >= 0.8:
        return Level("title", "close", detail)
    # One record runs the other title information on in $a, or the other stops short.
    (shorter, _), (_, longer_full) = sorted(
        ((a.title, a.full_title), (b.title, b.full_title)), key=lambda t: len(t[0])
    )
    if len(shorter) >= 8 and prefix_similarity(shorter, longer_full) >= 0.8:
        return Level("title", "contained", detail)
    return banded("title", similarity, detail, ((0.6, "similar"), (0.35, "weak")))


def full_title(a: Profile, b: Profile) -> Level:
    """The whole title: title proper, other title information, number and name of part."""
    if not a.full_title or not b.full_title:
        return Level("full_title", "missing", "")
    if a.full_title == b.full_title:
        return Level("full_title", "same", "")
    similarity = jaccard(a.full_title_trigrams, b.full_title_trigrams)
    detail = f"{similarity:.2f}"
    if similarity >= 0.9:
        return Level("full_title", "close", detail)
    shorter, longer = sorted((a.full_title, b.full_title), key=len)
    if longer.startswith(shorter) or (len(shorter) >= 8 and prefix_similarity(shorter, longer) >= 0.85):
        return Level("full_title", "one_has_more", f"{longer[len(shorter) :][:40]!r} only in one")
    return banded("full_title", similarity, detail, ((0.7, "similar"), (0.45, "weak")))


def subtitle(a: Profile, b: Profile) -> Level:
    """Other title information (245 $b): two different subtitles usually mean two books."""
    if not a.subtitle or not b.subtitle:
        return Level("subtitle", "missing" if not (a.subtitle or b.subtitle) else "one", "")
    if a.subtitle == b.subtitle:
        return Level("subtitle", "same", a.subtitle[:40])
    x, y = a.subtitle_trigrams, b.subtitle_trigrams
    similarity = jaccard(x, y)
    detail = f"{a.subtitle[:30]!r} / {b.subtitle[:30]!r}"
    if similarity >= 0.7:
        return Level("subtitle", "close", detail)
    if a.subtitle.startswith(b.subtitle) or b.subtitle.startswith(a.subtitle):
        return Level("subtitle", "truncated", detail)
    return banded("subtitle", similarity, detail, ((0.4, "similar"),))


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
