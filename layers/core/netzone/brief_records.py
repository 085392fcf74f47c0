"""Brief MARC records for electronic portfolios: the record a KBART row becomes when no network
record matches it. Deterministic: the same row gives the same record.

    from netzone import brief_records

    record = brief_records.brief_record(portfolio)  # 001 = kbart.source_id(portfolio)
"""

from __future__ import annotations

from datetime import date

from pymarc import Field, Indicators, Record, Subfield

from netzone.kbart import Identifier, Portfolio, source_id

_BLANKS = Indicators(" ", " ")
# Content, media and carrier type of every brief record: text, online.
_RDA_TYPES = (
    ("336", "text", "txt", "rdacontent"),
    ("337", "computer", "c", "rdamedia"),
    ("338", "online resource", "cr", "rdacarrier"),
)


def brief_record(portfolio: Portfolio, *, entered: date | None = None) -> Record:
    """A brief MARC record for an online resource, built from the row alone (deterministic).

    `entered` fills 008/00-05 (date entered on file); left out, the positions are fill
    characters, so that loading the same row twice gives the identical record.
    """
    serial = portfolio.publication_type == "serial"
    record = Record(
        force_utf8=True, leader="     nas a22     3i 4500" if serial else "     nam a22     3i 4500"
    )
    published = portfolio.date_monograph_published_online or portfolio.date_monograph_published_print
    year = published[:4] if published and not serial else None
    record.add_field(
        Field(tag="001", data=source_id(portfolio)),
        Field(tag="006", data="m     o  d        "),
        Field(tag="007", data="cr |||||||||||"),
        Field(tag="008", data=_fixed_length_data(serial, year, entered)),
    )
    record.add_field(*_identifier_fields(portfolio.identifiers))
    record.add_field(*_description_fields(portfolio, serial, year))
    record.add_field(*_notes_entries_links(portfolio))
    return record


def _fixed_length_data(serial: bool, year: str | None, entered: date | None) -> str:
    """008: date entered, dates of publication, place, an online resource, language undetermined."""
    return (
        (entered.strftime("%y%m%d") if entered else "||||||")
        + ("|||||||||" if serial else (f"s{year}    " if year else "nuuuuuuuu"))
        + "xx "
        + ("|| | o     |   ||" if serial else "     o     000 | ")
        + "und d"
    )


def _identifier_fields(identifiers: tuple[Identifier, ...]) -> list[Field]:
    """020 ISBNs, then 022 ISSNs: online first, as this record describes the online resource;
    one field per distinct number, an invalid one in $z (ISBN) or $y (ISSN)."""
    by_value = {(i.kind, i.value): i for i in sorted(identifiers, key=lambda i: i.role == "online")}
    online_first = sorted(by_value.values(), key=lambda i: i.role != "online")
    isbns = [
        Field(
            tag="020",
            indicators=_BLANKS,
            subfields=[Subfield("a" if i.valid else "z", i.value), Subfield("q", i.role)],
        )
        for i in online_first
        if i.kind == "isbn"
    ]
    issns = [
        Field(tag="022", indicators=_BLANKS, subfields=[Subfield("a" if i.valid else "y", i.value)])
        for i in online_first
        if i.kind == "issn"
    ]
    return isbns + issns


def _description_fields(portfolio: Portfolio, serial: bool, year: str | None) -> list[Field]:
    """100 first author, 245 title (with the volume of a monograph), 250 edition, 264 imprint,
    336-338 content, media and carrier type."""
    fields = []
    if portfolio.first_author:
        fields.append(
            Field(
                tag="100", indicators=Indicators("1", " "), subfields=[Subfield("a", portfolio.first_author)]
            )
        )
    title = [Subfield("a", portfolio.publication_title)]
    if portfolio.monograph_volume and not serial:
        title.append(Subfield("n", portfolio.monograph_volume))
    fields.append(
        Field(tag="245", indicators=Indicators("1" if portfolio.first_author else "0", "0"), subfields=title)
    )
    edition = portfolio.monograph_edition
    if edition:
        text = _ordinal(edition) if edition.isdigit() and int(edition) > 0 else edition
        fields.append(Field(tag="250", indicators=_BLANKS, subfields=[Subfield("a", text)]))
    imprint = [Subfield("b", portfolio.publisher_name)] if portfolio.publisher_name else []
    if year:
        imprint.append(Subfield("c", year))
    if imprint:
        fields.append(Field(tag="264", indicators=Indicators(" ", "1"), subfields=imprint))
    fields.extend(
        Field(
            tag=tag,
            indicators=_BLANKS,
            subfields=[Subfield("a", term), Subfield("b", code), Subfield("2", vocabulary)],
        )
        for tag, term, code, vocabulary in _RDA_TYPES
    )
    return fields


def _notes_entries_links(portfolio: Portfolio) -> list[Field]:
    """506 open access, 700 first editor, 856 the title's address."""
    fields = []
    if portfolio.open_access:
        fields.append(
            Field(
                tag="506",
                indicators=Indicators("0", " "),
                subfields=[
                    Subfield("a", "Open access"),
                    Subfield("f", "Unrestricted online access"),
                    Subfield("2", "star"),
                ],
            )
        )
    if portfolio.first_editor:
        fields.append(
            Field(
                tag="700",
                indicators=Indicators("1", " "),
                subfields=[Subfield("a", portfolio.first_editor), Subfield("e", "editor")],
            )
        )
    if portfolio.title_url:
        link = [Subfield("u", portfolio.title_url)]
        if portfolio.open_access:
            link.append(Subfield("7", "0"))  # access status: open access
        fields.append(Field(tag="856", indicators=Indicators("4", "0"), subfields=link))
    return fields


def _ordinal(number: str) -> str:
    n = int(number)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} ed."
