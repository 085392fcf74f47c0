"""Normalized identifiers and descriptive elements of a bibliographic record: pure functions, no AWS.

Each normalizer takes the text of one subfield (or one field) as catalogers and vendors write it
("0-306-40615-2 (pbk.)", "(OCoLC)ocm00012345", "n  78890351 ", "2d ed., rev. and enl.",
"xiii, 322 p., [9] leaves of plates :") and returns a canonical form, or None when the text holds
nothing usable. Two records that describe the same thing in different words should normalize to
the same values; that is what matching compares.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pymarc import Field, Record

# --------------------------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------------------------

_ISBN_CANDIDATE = re.compile(r"(97[89][\d\- ]{10,14}|[\d\- ]{9,13}[\dXx])")


def _isbn10_check(digits9: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(digits9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(digits12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


@lru_cache(maxsize=4096)
def isbn(text: str | None) -> str | None:
    """The ISBN-13 in `text` (ISBN-10 converted), or None if there is no valid ISBN.

    Qualifiers such as "(pbk.)" and hyphens are dropped; a wrong check digit makes it invalid.
    """
    if not text:
        return None
    match = _ISBN_CANDIDATE.search(text)
    if not match:
        return None
    compact = re.sub(r"[\- ]", "", match.group(1)).upper()
    if len(compact) == 10 and compact[:9].isdigit():
        if _isbn10_check(compact[:9]) != compact[9]:
            return None
        stem = "978" + compact[:9]
        return stem + _isbn13_check(stem)
    if len(compact) == 13 and compact.isdigit() and compact[:3] in ("978", "979"):
        return compact if _isbn13_check(compact[:12]) == compact[12] else None
    return None


def isbn10(text: str | None) -> str | None:
    """The ISBN-10 form of the ISBN in `text`, or None (979- ISBNs have no ISBN-10)."""
    value = isbn(text)
    if value is None or not value.startswith("978"):
        return None
    return value[3:12] + _isbn10_check(value[3:12])


# What a 020 qualifier says the ISBN belongs to: one volume of a set, the whole set, or a
# carrier other than print. Such ISBNs are weak evidence for a manifestation (a set ISBN is on
# every volume's record; an e-book ISBN is often listed on the print record).
_VOLUME_QUALIFIER = re.compile(
    r"\b(?:v|vol|volume|t|tome|bd|band|pt|part|no|nr|teil|livre|book|bk)\.?\s*(\d+|[ivxlc]+)\b"
)
_SET_QUALIFIER = re.compile(r"\b(?:set|series|complete|collection|v\.\s*\d+\s*-\s*\d+)\b")
_ELECTRONIC_QUALIFIER = re.compile(
    r"\b(?:e-?book|electronic|online|pdf|epub|e-?pub|mobi|kindle|ebk|e-?isbn|digital|web|"
    r"adobe|ebsco|netlibrary|overdrive|mybook)"
)
_MICROFORM_QUALIFIER = re.compile(r"\b(?:microfiche|microfilm|microform)")


@dataclass(frozen=True, slots=True)
class IsbnQualifier:
    """The qualifier of a 020 ISBN ("(pbk.)", "(v. 2)", "(set)", "(ebook)"), normalized."""

    text: str  # folded qualifier text, "" when none
    volume: str | None  # "2" for "(v. 2)", "ii" for "(t. II)"
    whole_set: bool
    carrier: str | None  # "electronic", "microform" or None (print or unstated)


def isbn_qualifier(text: str | None) -> IsbnQualifier:
    """What the words around an ISBN say it identifies: a volume, a set, another carrier."""
    rest = _ISBN_CANDIDATE.sub(" ", text or "", count=1)
    folded = fold(rest)
    volume = _VOLUME_QUALIFIER.search(folded)
    carrier = None
    if _ELECTRONIC_QUALIFIER.search(folded):
        carrier = "electronic"
    elif _MICROFORM_QUALIFIER.search(folded):
        carrier = "microform"
    return IsbnQualifier(
        text=folded,
        volume=volume.group(1) if volume else None,
        whole_set=bool(_SET_QUALIFIER.search(folded)),
        carrier=carrier,
    )


def issn(text: str | None) -> str | None:
    """The ISSN in `text` as NNNN-NNNC, or None when absent or the check digit is wrong."""
    if not text:
        return None
    match = re.search(r"(\d{4})\s*-?\s*(\d{3}[\dXx])", text)
    if not match:
        return None
    digits = (match.group(1) + match.group(2)).upper()
    total = sum((8 - i) * int(d) for i, d in enumerate(digits[:7]))
    check = (11 - total % 11) % 11
    if ("X" if check == 10 else str(check)) != digits[7]:
        return None
    return f"{digits[:4]}-{digits[4:]}"


_OCLC_PREFIX = re.compile(r"^\s*\(OCoLC\)\s*(?:ocm|ocn|on)?\s*0*(\d+)\s*$", re.IGNORECASE)
_OCLC_BARE = re.compile(r"^\s*(?:ocm|ocn|on)\s*0*(\d+)\s*$", re.IGNORECASE)


def oclc(text: str | None) -> str | None:
    """The OCLC number in a 035 $a ("(OCoLC)ocm00012345" -> "12345").

    Other agencies' numbers, including "(OCoLC-M)" and "(OCoLC-I)", are not OCLC numbers.
    """
    if not text:
        return None
    match = _OCLC_PREFIX.match(text) or _OCLC_BARE.match(text)
    if not match or int(match.group(1)) == 0:
        return None
    return match.group(1)


_NOT_LCCN = re.compile(r"[^A-Za-z0-9-]")


def lccn(text: str | None) -> str | None:
    """Library of Congress normalization of an LCCN (https://www.loc.gov/marc/lccn-namespace.html).

    Remove blanks, drop anything after a forward slash, and if there is a hyphen remove it
    and left-pad the part after it with zeros to six digits.
    """
    if not text:
        return None
    # Blanks go; so does anything else that is no part of an LCCN (a stray MARC-8 prime).
    value = _NOT_LCCN.sub("", text.split("/", 1)[0])
    if "-" in value:
        prefix, _, serial = value.partition("-")
        if not serial.isdigit():
            return None
        value = prefix + serial.rjust(6, "0")
    value = value.lower()
    if not re.fullmatch(r"[a-z]{0,3}\d{8,10}", value):
        return None
    return value


def identifiers(record: Record) -> dict[str, list[str]]:
    """Every normalized identifier of a record, by type; invalid ones kept as weak evidence.

    Kinds: isbn (020 $a), isbn_invalid (020 $z, and 020 $a with a wrong check digit: digits
    kept as weak evidence), issn and
    issn_l (022 $a, $l), oclc (035 $a; 001 with an ocm/ocn/on prefix or with 003 OCoLC), oclc_former (035 $z
    and 019 $a), lccn (010 $a), lccn_invalid (010 $z).
    """
    found: dict[str, list[str]] = {}

    def add(kind: str, value: str | None) -> None:
        if value and value not in found.setdefault(kind, []):
            found[kind].append(value)

    for field in record.get_fields("020"):
        for value in field.get_subfields("a"):
            number = isbn(value)
            add("isbn", number)
            if number is None and _ISBN_CANDIDATE.search(value):
                add("isbn_invalid", re.sub(r"[^\dXx]", "", _ISBN_CANDIDATE.search(value).group(1)).upper())
        for value in field.get_subfields("z"):
            add("isbn_invalid", isbn(value) or re.sub(r"\D", "", value) or None)
    for field in record.get_fields("022"):
        for value in field.get_subfields("a"):
            add("issn", issn(value))
        for value in field.get_subfields("l"):
            add("issn_l", issn(value))
    for field in record.get_fields("035"):
        for value in field.get_subfields("a"):
            add("oclc", oclc(value))
        for value in field.get_subfields("z"):
            add("oclc_former", oclc(value))
    # OCLC's own records carry the number in 001: "ocm00012345", or digits with 003 "OCoLC".
    control = record.get("001")
    if control is not None and control.data:
        number = control.data.strip()
        agency = record.get("003")
        if _OCLC_BARE.match(number):
            add("oclc", oclc(number))
        elif number.isdigit() and agency is not None and (agency.data or "").strip() == "OCoLC":
            add("oclc", oclc(f"(OCoLC){number}"))
    for field in record.get_fields("019"):
        for value in field.get_subfields("a"):
            add("oclc_former", oclc(f"(OCoLC){value}"))
    for field in record.get_fields("010"):
        for value in field.get_subfields("a"):
            add("lccn", lccn(value))
        for value in field.get_subfields("z"):
            add("lccn_invalid", lccn(value))
    return {kind: values for kind, values in found.items() if values}


# --------------------------------------------------------------------------------------------
# Text folding
# --------------------------------------------------------------------------------------------

# Combining marks left by NFKD decomposition, including the MARC-8 double diacritics (U+FE20..).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters NFKD does not decompose, spelled the way name authority (NACO) normalization does.
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "\u2113": "l",  # script l, as in "1 \u2113." (leaf) in old extent statements
        "&": " and ",
        # Apostrophes and the ALA-LC alif/ayn and soft/hard sign marks join their word:
        # "Scribner's", "Shu\u02bbayb", "Izdatel\u02b9stvo".
        "'": "",
        "\u2019": "",  # right single quotation mark
        "\u02bb": "",  # modifier letter turned comma (ayn)
        "\u02bc": "",  # modifier letter apostrophe (alif)
        "\u02b9": "",  # modifier letter prime (soft sign)
        "\u02ba": "",  # modifier letter double prime (hard sign)
    }
)
_NON_WORD = re.compile(r"[\W_]+")


# HTML character references that vendors' systems leave in MARC text ("Kr&#246;ll"). A
# tokenizer may have put spaces around them ("kr &#246; ll", "m. tamer &#214; zsu"): the space
# after one never belongs there, the space before only when the letter is a lower-case one
# inside a word.
_CHARACTER_REFERENCE = re.compile(r"( ?)&#(?:(\d{2,7})|[xX]([0-9a-fA-F]{2,6})); ?")
_NAMED_REFERENCE = re.compile(r"&(amp|lt|gt|quot|apos|nbsp);")


def _reference(match: re.Match) -> str:
    code = int(match.group(2)) if match.group(2) else int(match.group(3), 16)
    char = chr(code) if 0 < code < 0x110000 else ""
    return char if char.islower() else match.group(1) + char


# UTF-8 read as Latin-1 or MARC-8 ("rÃ¶mische" for "römische"): a record whose Leader/09
# says MARC-8 while its bytes are UTF-8, a common vendor fault.
_MOJIBAKE = re.compile("[\u00c2-\u00c5][\u0080-\u00bf]")


def _repair_mojibake(text: str) -> str:
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not wholly mojibake: leave it alone
        return text


@lru_cache(maxsize=16384)  # places, publishers, series and names recur from record to record
def fold(text: str | None) -> str:
    """Lower-case words separated by single spaces: accents, punctuation and case removed.

    "Trübner & Co.," and "Trubner and co" both fold to "trubner and co".
    """
    if not text:
        return ""
    if "&" in text:
        text = _CHARACTER_REFERENCE.sub(_reference, text)
        text = _NAMED_REFERENCE.sub(lambda m: html.unescape(m.group(0)), text)
        text = text.replace("&", " and ")
    if text.isascii():  # the common case, kept cheap: only apostrophes need a rule
        return _NON_WORD.sub(" ", text.lower().replace("'", "")).strip()
    if _MOJIBAKE.search(text):
        text = _repair_mojibake(text)
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    if not text.isascii():  # other scripts' marks (Hebrew points, Arabic harakat), rarer
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", text.lower().translate(_LETTERS)).strip()


# --------------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------------

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
_NUMBER_WORDS = {
    word: n
    for n, words in enumerate(
        [
            (),
            ("one", "first", "i"),
            ("two", "second"),
            ("three", "third"),
            ("four", "fourth"),
            ("five", "fifth"),
            ("six", "sixth"),
            ("seven", "seventh"),
            ("eight", "eighth"),
            ("nine", "ninth"),
            ("ten", "tenth"),
        ]
    )
    for word in words
}


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


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

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


def dates(record: Record) -> Dates:
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


# --------------------------------------------------------------------------------------------
# Format and carrier
# --------------------------------------------------------------------------------------------

# Leader/06 type of record, grouped: records of different groups never describe one manifestation.
_CONTENT = {
    "a": "text",
    "t": "text",
    "c": "score",
    "d": "score",
    "e": "map",
    "f": "map",
    "g": "video",
    "i": "audio",
    "j": "audio",
    "k": "image",
    "m": "computer",
    "o": "kit",
    "p": "mixed",
    "r": "object",
}
# 008 form of item: position 23 for books, serials, music, mixed materials; 29 for maps and
# visual materials.
_FORM_AT_29 = frozenset("efgkor")
_FORM_CARRIER = {
    "a": "microform",
    "b": "microform",
    "c": "microform",
    "o": "electronic",
    "q": "electronic",
    "s": "electronic",
}
# Media type codes (RDA 337 $b and the first letter of 338 $b) and 007/00 category of
# material, by carrier. "print" stands for every unmediated carrier: volume, sheet, card.
_MEDIA_CARRIER = {
    "c": "electronic",
    "h": "microform",
    "s": "audio",
    "v": "video",
    "g": "projected",
    "n": "print",
}
_007_CARRIER = {
    "c": "electronic",
    "h": "microform",
    "s": "audio",
    "v": "video",
    "g": "projected",
    "m": "projected",
    "t": "print",
    "a": "print",
    "d": "print",
    "k": "print",
    "q": "print",
}
# The same media types named in words (337/338 $a without codes, 245 $h, 533 $a).
_MEDIA_WORDS = (
    ("online", "electronic"),
    ("computer", "electronic"),
    ("electronic", "electronic"),
    ("micro", "microform"),
    ("audio", "audio"),
    ("sound", "audio"),
    ("video", "video"),
    ("unmediated", "print"),
    ("volume", "print"),
    ("sheet", "print"),
)


def _media(text: str) -> str | None:
    """The carrier named first in a text ("video computer" is a video)."""
    folded = fold(text)
    found = [(folded.find(word), carrier) for word, carrier in _MEDIA_WORDS if word in folded]
    return min(found)[1] if found else None


@dataclass(frozen=True, slots=True)
class Format:
    """What kind of resource a record describes and on which carrier."""

    content: str  # text, score, map, video, audio, image, computer, kit, mixed, object
    level: str  # Leader/07: m monograph, s serial, a component part, c collection, ...
    carrier: str  # print (any unmediated carrier), electronic, microform, audio, video, projected


def format_of(record: Record) -> Format:
    """Content type (Leader/06), bibliographic level (Leader/07) and carrier.

    The carrier comes from the most explicit source present, first found wins: 338 carrier
    type, 337 media type (codes, else words), 007/00, 008 form of item, then "[electronic
    resource]"/"[microform]" in 245 $h and reproduction notes (533).
    """
    leader = str(record.leader or "")
    kind = leader[6:7] or "a"
    content = "computer" if kind == "m" else _CONTENT.get(kind, "text")
    carrier = None
    for tag in ("338", "337"):
        field = record.get(tag)
        if field is not None:
            codes = field.get_subfields("b")
            if codes and codes[0].strip():
                carrier = _MEDIA_CARRIER.get(codes[0].strip()[:1].lower())
            carrier = carrier or _media(" ".join(field.get_subfields("a")))
        if carrier:
            break
    if carrier is None:
        field = record.get("007")
        if field is not None and field.data:
            carrier = _007_CARRIER.get(field.data[:1].lower())
    control = record.get("008")
    if carrier is None and control is not None and control.data:
        position = 29 if kind in _FORM_AT_29 else 23
        carrier = _FORM_CARRIER.get(control.data[position : position + 1])
    if carrier is None:
        medium = " ".join(v for f in record.get_fields("245") for v in f.get_subfields("h"))
        notes = " ".join(v for f in record.get_fields("533") for v in f.get_subfields("a"))
        carrier = _media(medium) or (_media(notes) if notes else None)
    if carrier is None and content == "computer":
        carrier = "electronic"
    return Format(content=content, level=leader[7:8] or "m", carrier=carrier or "print")
