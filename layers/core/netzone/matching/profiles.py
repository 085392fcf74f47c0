"""The match profile of a record: every normalized element matching compares, derived once.

A profile is plain data (strings, numbers, tuples) so that it can be stored beside the source
record and compared later without parsing MARC again: `Profile.to_dict()` / `from_dict()`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from functools import cached_property

from pymarc import Field, Record

from netzone import normalize

PROFILE_VERSION = 1
_UMLAUT_SPELLING = re.compile(r"([aou])e")


class _Indexed:
    """A record's fields grouped by tag, read once: pymarc scans every field on each lookup.

    Offers the part of pymarc.Record that the normalizers use (leader, get, get_fields).
    """

    __slots__ = ("by_tag", "leader")

    def __init__(self, record: Record):
        self.leader = record.leader
        self.by_tag: dict[str, list[Field]] = {}
        for field in record.fields:
            self.by_tag.setdefault(field.tag, []).append(field)

    def get(self, tag: str, default: Field | None = None) -> Field | None:
        fields = self.by_tag.get(tag)
        return fields[0] if fields else default

    def get_fields(self, *tags: str) -> list[Field]:
        if len(tags) == 1:
            return self.by_tag.get(tags[0], [])
        return [f for tag in tags for f in self.by_tag.get(tag, ())]

    def subfields(self, tags: tuple[str, ...], codes: str) -> list[str]:
        return [value for tag in tags for f in self.by_tag.get(tag, ()) for value in f.get_subfields(*codes)]


def trigrams(text: str) -> frozenset[str]:
    # Character trigrams of the words run together: robust to spacing, typos and word splits.
    squeezed = text.replace(" ", "")
    if len(squeezed) < 3:
        return frozenset((squeezed,)) if squeezed else frozenset()
    return frozenset(map("".join, zip(squeezed, squeezed[1:], squeezed[2:], strict=False)))


@dataclass(slots=False)
class Profile:
    """What matching knows about one record. Empty strings and None mean "not given"."""

    # Identifiers (normalize.identifiers): strong evidence, never decisive on their own.
    isbn: tuple[str, ...] = ()  # 020 $a ISBN-13s for this manifestation
    isbn_other: tuple[str, ...] = ()  # 020 $a for another volume, the set or another carrier; 020 $z
    isbn_volumes: tuple[str, ...] = ()  # volume designations in 020 qualifiers ("2" for "(v. 2)")
    oclc: tuple[str, ...] = ()
    oclc_former: tuple[str, ...] = ()  # 019 $a, 035 $z
    lccn: tuple[str, ...] = ()
    issn: tuple[str, ...] = ()  # 022 $a and $l
    # Title (245): folded, non-filing characters dropped.
    title: str = ""  # title proper
    subtitle: str = ""  # other title information
    part: str = ""  # number and name of part ($n $p)
    responsibility: str = ""  # statement of responsibility ($c)
    # Names: the main entry (1XX $a) and the surnames of every 1XX/7XX personal name.
    author: str = ""
    author_kind: str = ""  # person, corporate, meeting, uniform
    names: tuple[str, ...] = ()
    # Publication
    date_type: str = ""
    year: int | None = None
    years: tuple[int, ...] = ()  # every year given: Date1, Date2, 260/264 $c
    publisher: str = ""  # every publisher named (264/260 $b), " ; " between them
    place: str = ""  # every place of publication (264/260 $a), " ; " between them
    edition: int | None = None
    edition_words: str = ""
    # Physical description
    pages: int | None = None
    volumes: int | None = None
    prelims: int | None = None
    height: int | None = None
    # Series (490) and host item (773, for articles and other component parts)
    series: str = ""
    series_number: str = ""
    host: str = ""
    # Coded data
    language: str = ""
    country: str = ""
    content: str = "text"
    level: str = "m"
    carrier: str = "print"
    version: int = PROFILE_VERSION

    # ---- derived, not stored -----------------------------------------------------------

    @cached_property
    def full_title(self) -> str:
        return " ".join(p for p in (self.title, self.subtitle, self.part) if p)

    @cached_property
    def title_words(self) -> frozenset[str]:
        return frozenset(self.title.split())

    @cached_property
    def full_title_words(self) -> frozenset[str]:
        return frozenset(self.full_title.split())

    @cached_property
    def title_trigrams(self) -> frozenset[str]:
        return trigrams(self.title)

    @cached_property
    def full_title_trigrams(self) -> frozenset[str]:
        return trigrams(self.full_title)

    @cached_property
    def subtitle_trigrams(self) -> frozenset[str]:
        return trigrams(self.subtitle)

    @cached_property
    def title_numbers(self) -> frozenset[str]:
        return normalize.numbers(self.full_title)

    @cached_property
    def author_words(self) -> frozenset[str]:
        return frozenset(self.author.split())

    @cached_property
    def name_keys(self) -> frozenset[str]:
        """Surnames with German umlaut spellings folded together ("mueck" = "muck" from "Mück")."""
        return frozenset(_UMLAUT_SPELLING.sub(r"\1", name) for name in self.names)

    @cached_property
    def name_words(self) -> frozenset[str]:
        """Every word of the names and the statement of responsibility: "is the author there?"."""
        words = set(self.responsibility.split())
        for name in self.names:
            words.update(name.split())
        words.update(self.author.split())
        return frozenset(words)

    @cached_property
    def publisher_words(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(name.split()) for name in self.publisher.split(" ; ") if name)

    @cached_property
    def place_words(self) -> frozenset[str]:
        """The first word of each place ("new" for "New York" is no help; "york" then)."""
        words = set()
        for place in self.place.split(" ; "):
            parts = place.split()
            if parts:
                words.add(
                    parts[1]
                    if parts[0] in ("new", "san", "st", "saint", "los", "la") and len(parts) > 1
                    else parts[0]
                )
        return frozenset(words)

    @cached_property
    def host_words(self) -> frozenset[str]:
        return frozenset(self.host.split())

    @cached_property
    def all_years(self) -> frozenset[int]:
        return frozenset(self.years)

    # ---- storage -----------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The stored fields only, without empty values (JSON- and DynamoDB-friendly)."""
        data = {}
        for name, value in asdict(self).items():
            if value in ("", None, ()):
                continue
            data[name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Profile:
        values = {}
        for name, value in data.items():
            kind = _FIELD_KINDS.get(name)
            if kind is None:
                continue  # a newer profile's field: ignore rather than fail
            if kind == "int":
                value = int(value)  # DynamoDB hands numbers back as Decimal
            elif kind == "ints":
                value = tuple(map(int, value))
            elif kind == "strs":
                value = tuple(value)
            values[name] = value
        return cls(**values)


_INTS = frozenset({"year", "edition", "pages", "volumes", "prelims", "height", "version"})
_FIELD_KINDS = {
    f.name: "int"
    if f.name in _INTS
    else "ints"
    if f.name == "years"
    else "strs"
    if "tuple" in str(f.type)
    else "str"
    for f in fields(Profile)
}

_MAIN_ENTRY_KIND = {"100": "person", "110": "corporate", "111": "meeting", "130": "uniform"}


def _isbns(record: _Indexed, ids: dict[str, list[str]]) -> tuple[list[str], list[str], list[str]]:
    """This manifestation's ISBNs; those of other volumes, the set or another carrier; volumes."""
    isbn: list[str] = []
    isbn_other, volumes = list(ids.get("isbn_invalid", [])), []
    for value in record.subfields(("020",), "a"):
        number = normalize.isbn(value)
        if number is None:
            continue
        qualified = False
        if len(value.strip()) > 13:  # words beside the number: "(v. 2)", "(set)", "(ebook)"
            qualifier = normalize.isbn_qualifier(value)
            if qualifier.volume:
                volumes.append(qualifier.volume)
            qualified = bool(qualifier.volume or qualifier.whole_set or qualifier.carrier)
        target = isbn_other if qualified else isbn
        if number not in target:
            target.append(number)
    return [n for n in isbn if n not in isbn_other] or isbn, isbn_other, volumes


def _title(record: _Indexed) -> normalize.Title:
    title = normalize.title(record.get("245"))
    if not title.proper:  # an empty 245 $a: fall back on a variant, uniform or added title
        for tag in ("246", "240", "130", "740"):
            field = record.get(tag)
            if field is not None and field.get_subfields("a"):
                return normalize.title(field)
    return title


def _main_entry(record: _Indexed) -> tuple[str, str]:
    """The main entry's normalized name and its kind (person, corporate, ...), or empty strings."""
    for tag in ("100", "110", "111", "130"):
        main = record.get(tag)
        if main is not None:
            codes = "a" if tag in ("100", "130") else "ab"
            return normalize.name(" ".join(main.get_subfields(*codes))), _MAIN_ENTRY_KIND[tag]
    return "", ""


def _surnames(record: _Indexed) -> list[str]:
    names: list[str] = []
    for f in record.get_fields("100", "700"):
        for value in f.get_subfields("a"):
            surname = normalize.surname(value) if f.indicator1 != "0" else normalize.name(value)
            if surname and surname not in names:
                names.append(surname)
    return names


def profile(marc_record: Record) -> Profile:
    """Derive the match profile of a MARC record."""
    record = _Indexed(marc_record)
    ids = normalize.identifiers(record)
    isbn, isbn_other, volumes = _isbns(record, ids)
    title = _title(record)
    author, kind = _main_entry(record)
    names = _surnames(record)

    dates = normalize.dates(record)
    imprint = record.get_fields("264", "260")
    publishers = [normalize.publisher(v) for f in imprint for v in f.get_subfields("b")]
    places = [normalize.fold(v) for f in imprint for v in f.get_subfields("a")]
    edition = normalize.edition(" ".join(record.subfields(("250",), "a")))
    extent = normalize.extent(" ".join(record.subfields(("300",), "a")))
    control = record.get("008")
    fixed = (control.data or "") if control is not None else ""
    fmt = normalize.format_of(record)
    series_numbers = normalize.numbers(normalize.fold(" ".join(record.subfields(("490", "830"), "v"))))

    return Profile(
        isbn=tuple(isbn),
        isbn_other=tuple(isbn_other),
        isbn_volumes=tuple(volumes),
        oclc=tuple(ids.get("oclc", ())),
        oclc_former=tuple(ids.get("oclc_former", ())),
        lccn=tuple(ids.get("lccn", ())),
        issn=tuple(ids.get("issn", ())) + tuple(ids.get("issn_l", ())),
        title=title.proper,
        subtitle=title.remainder,
        part=" ".join(p for p in (title.part_number, title.part_name) if p),
        responsibility=normalize.fold(" ".join(record.subfields(("245",), "c"))),
        author=author,
        author_kind=kind,
        names=tuple(names),
        date_type=dates.type,
        year=dates.year,
        years=tuple(sorted(dates.all)),
        publisher=" ; ".join(list(dict.fromkeys(p for p in publishers if p))[:3]),
        place=" ; ".join(list(dict.fromkeys(p for p in places if p))[:3]),
        edition=edition.number,
        edition_words=edition.words,
        pages=extent.pages,
        volumes=extent.volumes,
        prelims=extent.prelims,
        height=normalize.dimensions(" ".join(record.subfields(("300",), "c"))),
        series=normalize.fold(" ".join(record.subfields(("490",), "a"))),
        series_number=" ".join(sorted(series_numbers)),
        host=normalize.fold(" ".join(record.subfields(("773",), "t"))),
        language=fixed[35:38].strip().lower() if len(fixed) >= 38 else "",
        country=fixed[15:18].strip().lower() if len(fixed) >= 18 else "",
        content=fmt.content,
        level=fmt.level,
        carrier=fmt.carrier,
    )
