"""The publication and its physical description normalized: dates (008, 260/264 $c), publisher
(260/264 $b), edition (250), extent and dimensions (300)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from netzone.normalize.folding import fold
from netzone.normalize.marc_fields import MarcFields
from netzone.normalize.titles import roman

# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_YEAR = re.compile(r"(?<!\d)(1[4-9]\d\d|20\d\d)(?!\d)")


@dataclass(frozen=True, slots=True)
class Dates:
    """Publication dates of a record from 008 and 260/264 $c."""

    type: str  # 008/06: s single, m multiple, r reprint, t publication and copyright, ...
    date1: int | None
    date2: int | None
    statement: tuple[int, ...]  # the years in 260/264 $c, in order

    @property
    def year(self) -> int | None:
        """The year of publication of this manifestation: Date1, else the first year in $c."""
        if self.date1 is not None:
            return self.date1
        return self.statement[0] if self.statement else None

    @property
    def all(self) -> frozenset[int]:
        """Every year the record gives: Date1, Date2 (for reprints, copyright, ranges) and $c."""
        found = set(self.statement)
        found.update(y for y in (self.date1, self.date2) if y is not None)
        return frozenset(found)


def _date008(text: str) -> int | None:
    # "19uu" and similar partial dates are not usable as a year; 9999 means "open".
    return int(text) if len(text) == 4 and text.isdigit() and 1400 <= int(text) <= 2100 else None


def years(text: str | None) -> tuple[int, ...]:
    """The four-digit years in a 260/264 $c ("[1972, c1956]" -> (1972, 1956))."""
    return tuple(int(y) for y in _YEAR.findall(text or ""))


def dates(record: MarcFields) -> Dates:
    """Date type, Date1 and Date2 from 008/06-14 and the years of 260 $c or 264 $c."""
    control = record.get("008")
    fixed = (control.data or "") if control is not None else ""
    statement: list[int] = []
    for tag in ("264", "260"):
        for field in record.get_fields(tag):
            if tag == "264" and field.indicator2 not in ("1", " "):
                continue  # 264 _4 is a copyright date, _2 distribution, _3 manufacture
            for value in field.get_subfields("c"):
                statement.extend(years(value))
    return Dates(
        type=fixed[6:7].strip().lower() if len(fixed) > 6 else "",
        date1=_date008(fixed[7:11]),
        date2=_date008(fixed[11:15]),
        statement=tuple(statement),
    )


# --------------------------------------------------------------------------------------------
# Publisher, edition, extent
# --------------------------------------------------------------------------------------------

# Words that say "a publisher" rather than which one; dropped so that "Houghton, Mifflin and
# company" and "Houghton Mifflin Co." compare equal.
_PUBLISHER_NOISE = frozenset(
    [
        "and",
        "the",
        "co",
        "company",
        "companies",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "corp",
        "corporation",
        "pub",
        "publ",
        "publisher",
        "publishers",
        "publishing",
        "pubs",
        "house",
        "sons",
        "son",
        "bros",
        "brothers",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "srl",
        "spa",
        "verlag",
        "editions",
        "edition",
        "editeur",
        "editeurs",
        "editore",
        "editorial",
        "editrice",
        "ediciones",
        "edizioni",
        "printed",
        "print",
        "printer",
        "printers",
        "for",
        "by",
        "of",
        "at",
        "in",
        "et",
        "und",
        "y",
        "e",
        "di",
        "de",
        "la",
        "le",
        "les",
    ]
)


def publisher(text: str | None) -> str:
    """A publisher's name, folded and without generic words ("J. Cape, Ltd." -> "j cape")."""
    return " ".join(w for w in fold(text).split() if w not in _PUBLISHER_NOISE)


_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "premiere": 1,
    "deuxieme": 2,
    "troisieme": 3,
    "erste": 1,
    "zweite": 2,
    "dritte": 3,
    "primera": 1,
    "segunda": 2,
    "tercera": 3,
    "prima": 1,
    "seconda": 2,
    "terza": 3,
    "primeira": 1,
}
_ORDINAL_NUMBER = re.compile(r"^(\d{1,3})(?:st|nd|rd|th|d|e|er|re|eme|a|o|ste|te)?$")
_EDITION_WORDS = {
    "ed": "ed",
    "edn": "ed",
    "edition": "ed",
    "editions": "ed",
    "edicion": "ed",
    "edizione": "ed",
    "edicao": "ed",
    "aufl": "ed",
    "auflage": "ed",
    "ausg": "ed",
    "ausgabe": "ed",
    "uitg": "ed",
    "izd": "ed",
    "rev": "rev",
    "revised": "rev",
    "enl": "enl",
    "enlarged": "enl",
    "expanded": "enl",
    "augm": "enl",
    "corr": "corr",
    "corrected": "corr",
    "impr": "impr",
    "impression": "impr",
    "printing": "impr",
    "print": "impr",
    "reprint": "repr",
    "repr": "repr",
    "amer": "american",
}


@dataclass(frozen=True, slots=True)
class Edition:
    """An edition statement (250 $a) reduced to its number and its canonical words."""

    number: int | None  # 2 for "2nd ed.", "2d ed.", "Second edition", "2. Aufl."
    words: str  # canonical, e.g. "2 ed rev enl"


def edition(text: str | None) -> Edition:
    """Normalize an edition statement: "2nd ed." and "Second edition" both give Edition(2, "2 ed")."""
    words: list[str] = []
    number = None
    for word in fold(text).split():
        ordinal = _ORDINAL_WORDS.get(word)
        if ordinal is None:
            match = _ORDINAL_NUMBER.match(word)
            ordinal = int(match.group(1)) if match else None
        if ordinal is not None:
            if number is None:
                number = ordinal
            words.append(str(ordinal))
        else:
            words.append(_EDITION_WORDS.get(word, word))
    return Edition(number=number, words=" ".join(words))


# A run of page numbers ending in a unit: "xiii, 322 p.", "320, 11 p.", "[32], 175, [1] pages",
# "9-244 p.". Roman numerals are preliminaries; bracketed numbers are unnumbered pages.
_PAGE_RUN = re.compile(
    r"((?:\d+\s+)*)(\d+)\s*(?:p|pp|pages?|leaves|l|s|seiten|ff|folios?|columns|col)\b"
    r"(?!\s+of\s+plates)"
)
_VOLUME_COUNT = re.compile(r"(\d+)\s*(?:v\b|vol\b|vols\b|volumes?\b|bd\b|bde\b|tomes?\b)")
_PRELIMS = re.compile(r"^\s*([mdclxvi]+)\b")


@dataclass(frozen=True, slots=True)
class Extent:
    """The extent statement (300 $a) as numbers."""

    pages: int | None  # the main sequence of pages or leaves (the largest), plates excluded
    volumes: int | None  # "3 v." -> 3
    prelims: int | None  # roman-numbered preliminary pages, "xiii, 322 p." -> 13

    @property
    def empty(self) -> bool:
        return self.pages is None and self.volumes is None


def extent(text: str | None) -> Extent:
    """Read pages, volumes and preliminary pages from a 300 $a ("ix, 11-132 p." -> 132 pages)."""
    folded = fold(text)
    counts = []
    for before, last in _PAGE_RUN.findall(folded):
        counts.append(int(last))
        counts.extend(int(n) for n in before.split())
    volumes = _VOLUME_COUNT.search(folded)
    prelims = _PRELIMS.match(folded)
    return Extent(
        pages=max(counts) if counts else None,
        volumes=int(volumes.group(1)) if volumes else None,
        prelims=roman(prelims.group(1)) if prelims else None,
    )


_CENTIMETRES = re.compile(r"(\d+)(?:\s*\d/\d)?\s*(?:x\s*\d+(?:\s*\d/\d)?\s*)?cm")


def dimensions(text: str | None) -> int | None:
    """The height in centimetres from a 300 $c ("24 cm." -> 24; "30 x 24 cm" -> 30; "23 1/2cm" -> 23)."""
    match = _CENTIMETRES.search((text or "").lower())
    return int(match.group(1)) if match else None
