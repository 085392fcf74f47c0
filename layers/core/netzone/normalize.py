"""Normalized identifiers of a bibliographic record: pure functions, no AWS.

Each normalizer takes the text of one subfield as catalogers and vendors write it
("0-306-40615-2 (pbk.)", "(OCoLC)ocm00012345", "n  78890351 ") and returns the canonical
form, or None when the text holds no usable identifier.
"""

from __future__ import annotations

import re

from pymarc import Record

_ISBN_CANDIDATE = re.compile(r"(97[89][\d\- ]{10,14}|[\d\- ]{9,13}[\dXx])")


def _isbn10_check(digits9: str) -> str:
    total = sum((10 - i) * int(d) for i, d in enumerate(digits9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(digits12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return str((10 - total % 10) % 10)


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


def lccn(text: str | None) -> str | None:
    """Library of Congress normalization of an LCCN (https://www.loc.gov/marc/lccn-namespace.html).

    Remove blanks, drop anything after a forward slash, and if there is a hyphen remove it
    and left-pad the part after it with zeros to six digits.
    """
    if not text:
        return None
    value = text.replace(" ", "").split("/", 1)[0]
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
    """Every normalized identifier of a record, by type; invalid ones kept as weak evidence."""
    found: dict[str, list[str]] = {}

    def add(kind: str, value: str | None) -> None:
        if value and value not in found.setdefault(kind, []):
            found[kind].append(value)

    for field in record.get_fields("020"):
        for value in field.get_subfields("a"):
            add("isbn", isbn(value))
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
    for field in record.get_fields("019"):
        for value in field.get_subfields("a"):
            add("oclc_former", oclc(f"(OCoLC){value}"))
    for field in record.get_fields("010"):
        for value in field.get_subfields("a"):
            add("lccn", lccn(value))
    return {kind: values for kind, values in found.items() if values}
