"""Synthetic provider feeds the project generates itself (demo, tests, benchmarks).

Records are plausible monographs: a valid ISBN-13, an OCLC number, author, title, edition,
imprint, extent and subjects, all drawn from a seeded random generator so that the same
arguments always give the same bytes. Corpus files are never copied; these stand in for them
wherever a test needs many records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from pymarc import Field, Indicators, Leader, Record, Subfield, XMLWriter

from netzone import kbart

_ADJECTIVES = [
    "Silent",
    "Northern",
    "Hidden",
    "Ancient",
    "Practical",
    "Modern",
    "Forgotten",
    "Open",
    "Shared",
    "Quiet",
    "Radiant",
    "Wandering",
    "Invisible",
    "Restless",
    "Careful",
    "Golden",
]
_NOUNS = [
    "libraries",
    "rivers",
    "catalogs",
    "harbours",
    "gardens",
    "archives",
    "mountains",
    "cities",
    "machines",
    "letters",
    "islands",
    "readers",
    "bridges",
    "forests",
    "maps",
    "voices",
]
_TOPICS = [
    "a history",
    "an introduction",
    "essays",
    "a field guide",
    "new perspectives",
    "a memoir",
    "case studies",
    "a handbook",
]
_SURNAMES = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Haddad",
    "Kowalski",
    "Ibarra",
    "Nguyen",
    "Fitzgerald",
    "Adeyemi",
    "Rossi",
    "Schmidt",
    "Castillo",
    "Dubois",
    "Novak",
    "Whitfield",
]
_FORENAMES = [
    "Amara",
    "Björn",
    "Claire",
    "Daichi",
    "Elif",
    "Francesca",
    "Gabriel",
    "Hannah",
    "Iris",
    "Jonas",
    "Kamala",
    "Luis",
    "Maren",
    "Noor",
    "Oskar",
    "Priya",
]
_PUBLISHERS = [
    ("New York", "Harbor Press"),
    ("London", "Northgate Books"),
    ("Chicago", "Lakeside University Press"),
    ("Toronto", "Maple & Quill"),
    ("Boston", "Beacon Hill Publishing"),
    ("Oxford", "Meridian Academic"),
]
_SUBJECTS = [
    "Libraries",
    "Cataloging",
    "Rivers",
    "Urban history",
    "Cartography",
    "Climatic changes",
    "Information science",
    "Bridges",
    "Forest ecology",
    "Letter writing",
    "Islands",
    "Reading",
]
_EDITIONS = [None, None, None, "2nd ed.", "Revised edition", "3rd ed."]


def isbn13(stem12: str) -> str:
    """An ISBN-13 with a correct check digit for a 12-digit stem."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(stem12))
    return stem12 + str((10 - total % 10) % 10)


def synthetic_record(rng: random.Random, provider: str, number: int) -> Record:
    """One plausible monograph record whose 001 is `<provider>-<number>`."""
    year = rng.randint(1950, 2025)
    lang = rng.choice(["eng", "eng", "eng", "fre", "ger", "spa"])
    title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    subtitle = rng.choice(_TOPICS)
    surname, forename = rng.choice(_SURNAMES), rng.choice(_FORENAMES)
    place, publisher = rng.choice(_PUBLISHERS)
    edition = rng.choice(_EDITIONS)

    record = Record(force_utf8=True)
    record.leader = Leader("00000nam a2200000 i 4500")
    record.add_field(
        Field(tag="001", data=f"{provider}-{number:08d}"),
        Field(tag="003", data=provider.upper()),
        Field(tag="005", data=f"{year + 1 if year < 2025 else 2025}0101000000.0"),
        Field(tag="008", data=f"{year % 100:02d}0101s{year}    xxu           000 0 {lang} d"),
        Field(
            tag="020",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("a", isbn13(f"978{rng.randrange(10**9):09d}")), Subfield("q", "hardcover")],
        ),
        Field(
            tag="035",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("a", f"(OCoLC){rng.randrange(10**6, 10**9)}")],
        ),
        Field(
            tag="100",
            indicators=Indicators("1", " "),
            subfields=[Subfield("a", f"{surname}, {forename},"), Subfield("e", "author.")],
        ),
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[
                Subfield("a", f"{title} :"),
                Subfield("b", f"{subtitle} /"),
                Subfield("c", f"{forename} {surname}."),
            ],
        ),
    )
    if edition:
        record.add_field(
            Field(tag="250", indicators=Indicators(" ", " "), subfields=[Subfield("a", edition)])
        )
    record.add_field(
        Field(
            tag="264",
            indicators=Indicators(" ", "1"),
            subfields=[
                Subfield("a", f"{place} :"),
                Subfield("b", f"{publisher},"),
                Subfield("c", f"{year}."),
            ],
        ),
        Field(
            tag="300",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("a", f"{rng.randint(48, 900)} pages ;"), Subfield("c", "24 cm")],
        ),
    )
    for subject in rng.sample(_SUBJECTS, k=2):
        record.add_field(
            Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", f"{subject}.")])
        )
    return record


def synthetic_records(count: int, provider: str = "demo", seed: int = 1) -> Iterator[Record]:
    """`count` records, generated lazily so that large feeds never sit in memory."""
    rng = random.Random(f"{provider}:{seed}")
    for number in range(1, count + 1):
        yield synthetic_record(rng, provider, number)


def write_iso2709(path: Path, records: Iterator[Record] | list[Record]) -> int:
    """Write records as MARC21 (ISO 2709, UTF-8); returns how many were written."""
    written = 0
    with open(path, "wb") as out:
        for record in records:
            out.write(record.as_marc())
            written += 1
    return written


def write_marcxml(path: Path, records: Iterator[Record] | list[Record]) -> int:
    """Write records as a MARCXML collection; returns how many were written."""
    written = 0
    with open(path, "wb") as out:
        writer = XMLWriter(out)
        for record in records:
            writer.write(record)
            written += 1
        writer.close(close_fh=False)
    return written


# Malformed records, each a different way a real feed goes wrong. Every entry is the raw
# ISO 2709 bytes and the reason a reader should give for rejecting it.
def malformed_iso2709(provider: str = "demo") -> list[tuple[bytes, str]]:
    rng = random.Random(f"malformed:{provider}")
    no_title = synthetic_record(rng, provider, 900001)
    no_title.remove_fields("245")
    no_id = synthetic_record(rng, provider, 900002)
    no_id.remove_fields("001")
    bad_directory = bytearray(synthetic_record(rng, provider, 900003).as_marc())
    bad_directory[24:28] = b"2x5q"  # a directory entry whose tag and length are not digits
    return [
        (no_title.as_marc(), "no 245"),
        (no_id.as_marc(), "no 001"),
        (bytes(bad_directory), "directory"),
    ]


def write_mixed_iso2709(path: Path, valid: int, provider: str = "demo", seed: int = 7) -> dict:
    """A feed that interleaves valid records with the malformed ones above.

    Returns {"valid": n, "malformed": [(position, reason-fragment), ...]} with 1-based positions.
    """
    bad = malformed_iso2709(provider)
    positions: list[tuple[int, str]] = []
    records = synthetic_records(valid, provider, seed)
    position = 0
    with open(path, "wb") as out:
        for index, record in enumerate(records):
            if index % max(1, valid // (len(bad) + 1)) == 1 and len(positions) < len(bad):
                raw, reason = bad[len(positions)]
                position += 1
                out.write(raw)
                positions.append((position, reason))
            position += 1
            out.write(record.as_marc())
    return {"valid": valid, "malformed": positions}


def overlapping_records(records: list[Record], provider: str, conflicts: int = 2) -> Iterator[Record]:
    """Another provider's descriptions of the same books: each copy gets the provider's own 001.

    The last `conflicts` copies describe a later edition that kept the identifiers (it happens):
    a careful matcher asks a cataloger about those instead of merging them.
    """
    for number, original in enumerate(records, start=1):
        record = Record(force_utf8=True, leader=str(original.leader))
        for field in original.fields:
            record.add_field(field)
        record["001"].data = f"{provider}-{number:08d}"
        record["003"].data = provider.upper()
        if number > len(records) - conflicts:
            year = int(record["264"]["c"][:4]) + 7
            record.remove_fields("250")
            record.add_ordered_field(
                Field(tag="250", indicators=Indicators(" ", " "), subfields=[Subfield("a", "3rd ed.")])
            )
            record["264"]["c"] = f"{year}."
            for control in record.get_fields("008"):
                control.data = f"{control.data[:7]}{year}{control.data[11:]}"
        yield record


# ---------------------------------------------------------------- KBART title lists

KBART_COLUMNS = list(kbart.COLUMNS)  # the Phase II columns, in order


def issn(stem7: str) -> str:
    """An ISSN (NNNN-NNNC) with a correct check digit for a 7-digit stem."""
    check = (11 - sum((8 - i) * int(d) for i, d in enumerate(stem7)) % 11) % 11
    digits = stem7 + ("X" if check == 10 else str(check))
    return f"{digits[:4]}-{digits[4:]}"


def kbart_row(**values: str) -> str:
    """One tab-separated KBART row: the given columns filled, every other column present and empty."""
    unknown = set(values) - set(KBART_COLUMNS)
    if unknown:
        raise ValueError(f"not KBART columns: {sorted(unknown)}")
    return "\t".join(values.get(name, "") for name in KBART_COLUMNS)


def synthetic_kbart_rows(
    records: list[Record], new_titles: int, provider: str = "openlink", seed: int = 1
) -> Iterator[dict[str, str]]:
    """KBART rows (as column -> value) for an e-book and e-journal package.

    The first rows are e-book editions of `records` (print_identifier = the record's 020 $a,
    so their portfolios attach to those records' network records); then `new_titles` rows that
    no MARC record describes (alternately e-journals with ISSNs and e-books with new ISBNs),
    which become brief records. Every third title is open access.
    """
    rng = random.Random(f"kbart:{provider}:{seed}")
    number = 0
    for record in records:
        number += 1
        year = (record["264"]["c"] if record["264"] else "2000")[:4]
        yield {
            "publication_title": (record["245"]["a"] or "").rstrip(" :/"),
            "print_identifier": record["020"]["a"],
            "online_identifier": isbn13(f"979{rng.randrange(10**9):09d}"),
            "title_url": f"https://books.{provider}.example.org/title/{number}",
            "first_author": (record["100"]["a"] or "").rstrip(","),
            "title_id": f"{provider}-ebook-{number:05d}",
            "coverage_depth": "fulltext",
            "publication_type": "monograph",
            "date_monograph_published_print": year,
            "access_type": "F" if number % 3 == 0 else "P",
        }
    for index in range(new_titles):
        number += 1
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        if index % 2 == 0:
            start = rng.randint(1990, 2015)
            yield {
                "publication_title": f"Journal of {title.lower()}",
                "print_identifier": issn(f"{rng.randrange(10**7):07d}"),
                "online_identifier": issn(f"{rng.randrange(10**7):07d}"),
                "date_first_issue_online": str(start),
                "num_first_vol_online": str(start - 1980),
                "title_url": f"https://journals.{provider}.example.org/{number}",
                "title_id": f"{provider}-journal-{number:05d}",
                "coverage_depth": "fulltext",
                "publisher_name": rng.choice(_PUBLISHERS)[1],
                "publication_type": "serial",
                "access_type": "F" if number % 3 == 0 else "P",
            }
        else:
            yield {
                "publication_title": f"{title}: {rng.choice(_TOPICS)}",
                "online_identifier": isbn13(f"978{rng.randrange(10**9):09d}"),
                "title_url": f"https://books.{provider}.example.org/title/{number}",
                "first_author": f"{rng.choice(_SURNAMES)}, {rng.choice(_FORENAMES)}",
                "title_id": f"{provider}-ebook-{number:05d}",
                "coverage_depth": "fulltext",
                "publisher_name": rng.choice(_PUBLISHERS)[1],
                "publication_type": "monograph",
                "date_monograph_published_online": str(rng.randint(2000, 2025)),
                "access_type": "F" if number % 3 == 0 else "P",
            }


def write_kbart(
    path: Path, rows: Iterator[dict[str, str]] | list[dict[str, str]], gzipped: bool = False
) -> int:
    """Write a KBART Phase II file (header and rows, UTF-8, LF), optionally gzip; returns the rows."""
    import gzip

    lines = ["\t".join(KBART_COLUMNS)] + [kbart_row(**row) for row in rows]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data, mtime=0) if gzipped else data)
    return len(lines) - 1
