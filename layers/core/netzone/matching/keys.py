"""Match keys: short strings under which a record is filed, so that its duplicates meet it.

A record is a candidate for another when they share at least one key. Identifier keys find
records that carry the same number; content keys find those that carry none (or different
ones). Each content key combines two or three independent elements, so that a pair still
meets when one element differs between two descriptions of one book (no 1XX in one record,
Date1 off by one, a subtitle run on in 245 $a, a typo in the title):

    ta:  the first words of the title | the main entry's first word
    ty:  the first words of the title | the year
    tw:  the first word of the title | the main entry | the year
    ap:  the main entry | the year | the number of pages
    tp:  the first two words of the title | the number of pages

Title words are written as consonant skeletons (vowels after the first letter dropped:
"neighbours" and "neighbors" are both "nghbrs"), and leading articles are dropped.

Keys are bounded: at most MAX_KEYS per record, each at most MAX_KEY_LENGTH characters, so each
can be stored as one item and all of a record's fetched with one BatchGetItem.
"""

from __future__ import annotations

import re

from pymarc import Record

from netzone.matching.profiles import Profile, profile

MAX_KEYS = 8
MAX_KEY_LENGTH = 200
TITLE_WORDS = 4  # enough to tell most titles apart, few enough to survive a changed subtitle
MAX_IDENTIFIER_KEYS = 3  # identifiers are precise: a few suffice; content keys always fit

# Articles a cataloger may or may not have skipped with the non-filing indicator.
_ARTICLES = frozenset(
    [
        "the",
        "a",
        "an",
        "el",
        "la",
        "le",
        "les",
        "l",
        "lo",
        "il",
        "gli",
        "los",
        "las",
        "un",
        "une",
        "ein",
        "eine",
        "der",
        "die",
        "das",
        "de",
        "het",
    ]
)
_VOWELS = re.compile(r"(?<=.)[aeiouy]+")


def _skeleton(word: str) -> str:
    return _VOWELS.sub("", word)[:16]


def title_words(p: Profile, count: int = TITLE_WORDS) -> list[str]:
    """The first `count` words of the whole title as consonant skeletons, articles dropped."""
    words = p.full_title.split()
    while len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return [_skeleton(w) for w in words[:count]]


def author_key(p: Profile) -> str:
    """The first word of the main entry (a surname, or the first word of a body's name)."""
    if p.author:
        return p.author.split()[0][:20]
    return p.names[0].split()[0][:20] if p.names else ""


def identifier_keys(p: Profile) -> list[str]:
    keys = [f"oclc:{n}" for n in p.oclc[:2]]
    keys += [f"isbn:{n}" for n in p.isbn[:2]]
    keys += [f"lccn:{n}" for n in p.lccn[:1]]
    keys += [f"oclc:{n}" for n in p.oclc_former[:1]]
    if p.level in ("s", "i") and p.issn:
        keys.append(f"issn:{p.issn[0]}")  # in a monograph, 022 is rare and often the series'
    return list(dict.fromkeys(keys))[:MAX_IDENTIFIER_KEYS]


def content_keys(p: Profile) -> list[str]:
    words = title_words(p)
    if not words:
        return []
    title = " ".join(words)
    author = author_key(p)
    year = "" if p.year is None else str(p.year)
    keys = [f"ta:{title}|{author}", f"ty:{title}|{year}", f"tw:{words[0]}|{author}|{year}"]
    if p.pages:
        if year:
            keys.append(f"ap:{author}|{year}|{p.pages}")
        keys.append(f"tp:{' '.join(words[:2])}|{p.pages}")
    return keys


def match_keys(record: Record | Profile) -> list[str]:
    """The keys of a record: up to three identifier keys, then up to five content keys."""
    p = record if isinstance(record, Profile) else profile(record)
    keys = identifier_keys(p) + content_keys(p)
    return list(dict.fromkeys(k[:MAX_KEY_LENGTH] for k in keys))[:MAX_KEYS]
