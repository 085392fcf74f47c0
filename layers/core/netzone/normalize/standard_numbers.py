"""Identifiers of a record normalized: ISBN, ISSN, OCLC number and LCCN, each checked.

"0-306-40615-2 (pbk.)", "(OCoLC)ocm00012345", "n  78890351 " become the canonical form matching
compares (ISBN-13, NNNN-NNNC, digits, LC's normalized LCCN), or None when the text holds no valid
number; `identifiers` gathers every one of a record, by kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from pymarc import Field

from netzone.normalize.folding import fold
from netzone.normalize.marc_fields import MarcFields

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


def identifiers(record: MarcFields) -> dict[str, list[str]]:
    """Every normalized identifier of a record, by type; invalid ones kept as weak evidence.

    Kinds: isbn (020 $a), isbn_invalid (020 $z, and 020 $a with a wrong check digit: digits
    kept as weak evidence), issn and
    issn_l (022 $a, $l), oclc (035 $a; 001 with an ocm/ocn/on prefix or with 003 OCoLC), oclc_former (035 $z
    and 019 $a), lccn (010 $a), lccn_invalid (010 $z).
    """
    found: dict[str, list[str]] = {}
    for kind, value in _identifiers_in(record):
        if value and value not in found.setdefault(kind, []):
            found[kind].append(value)
    return {kind: values for kind, values in found.items() if values}


_Found = Iterator[tuple[str, str | None]]  # (kind, normalized value or None), in record order


def _identifiers_in(record: MarcFields) -> _Found:
    for tag in ("020", "022", "035"):
        for field in record.get_fields(tag):
            yield from _IN_FIELD[tag](field)
    yield from _oclc_in_001(record)
    for tag in ("019", "010"):
        for field in record.get_fields(tag):
            yield from _IN_FIELD[tag](field)


def _isbns_in(field: Field) -> _Found:
    for value in field.get_subfields("a"):
        number = isbn(value)
        yield "isbn", number
        if number is None and (candidate := _ISBN_CANDIDATE.search(value)):
            yield "isbn_invalid", re.sub(r"[^\dXx]", "", candidate.group(1)).upper()
    for value in field.get_subfields("z"):
        yield "isbn_invalid", isbn(value) or re.sub(r"\D", "", value) or None


def _subfields_in(field: Field, *rules: tuple[str, str, Callable[[str], str | None]]) -> _Found:
    """(subfield code, kind, normalizer): each rule's subfields in turn."""
    for code, kind, normalizer in rules:
        for value in field.get_subfields(code):
            yield kind, normalizer(value)


def _oclc_in_001(record: MarcFields) -> _Found:
    # OCLC's own records carry the number in 001: "ocm00012345", or digits with 003 "OCoLC".
    control = record.get("001")
    if control is None or not control.data:
        return
    number = control.data.strip()
    agency = record.get("003")
    if _OCLC_BARE.match(number):
        yield "oclc", oclc(number)
    elif number.isdigit() and agency is not None and (agency.data or "").strip() == "OCoLC":
        yield "oclc", oclc(f"(OCoLC){number}")


_IN_FIELD: dict[str, Callable[[Field], _Found]] = {
    "020": _isbns_in,
    "022": lambda field: _subfields_in(field, ("a", "issn", issn), ("l", "issn_l", issn)),
    "035": lambda field: _subfields_in(field, ("a", "oclc", oclc), ("z", "oclc_former", oclc)),
    "019": lambda field: _subfields_in(field, ("a", "oclc_former", lambda value: oclc(f"(OCoLC){value}"))),
    "010": lambda field: _subfields_in(field, ("a", "lccn", lccn), ("z", "lccn_invalid", lccn)),
}
