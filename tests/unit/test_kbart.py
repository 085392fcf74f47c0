import io
import itertools

import pytest
from pymarc import Field, Indicators, Record, Subfield

from netzone import brief_records, kbart, marc, matching, normalize, screening

# The 25 KBART Phase II columns, written out here rather than taken from the module under test.
HEADER = (
    "publication_title\tprint_identifier\tonline_identifier\tdate_first_issue_online\t"
    "num_first_vol_online\tnum_first_issue_online\tdate_last_issue_online\tnum_last_vol_online\t"
    "num_last_issue_online\ttitle_url\tfirst_author\ttitle_id\tembargo_info\tcoverage_depth\tnotes\t"
    "publisher_name\tpublication_type\tdate_monograph_published_print\tdate_monograph_published_online\t"
    "monograph_volume\tmonograph_edition\tfirst_editor\tparent_publication_title_id\t"
    "preceding_publication_title_id\taccess_type"
)
NAMES = HEADER.split("\t")


def row(**values: str) -> str:
    """A tab-separated row: the given columns filled, every other column present and empty."""
    unknown = set(values) - set(NAMES)
    assert not unknown, unknown
    return "\t".join(values.get(name, "") for name in NAMES)


NATURE = row(
    publication_title="Nature",
    print_identifier="0028-0836",
    online_identifier="1476-4687",
    date_first_issue_online="1869-11-04",
    num_first_vol_online="1",
    num_first_issue_online="1",
    title_url="https://www.nature.com/nature",
    title_id="nature",
    coverage_depth="fulltext",
    publisher_name="Nature Publishing Group",
    publication_type="serial",
    access_type="P",
)
PLOS = row(
    publication_title="PLOS ONE",
    online_identifier="1932-6203",
    date_first_issue_online="2006-12",
    num_first_vol_online="1",
    title_url="https://journals.plos.org/plosone/",
    coverage_depth="fulltext",
    publisher_name="Public Library of Science",
    publication_type="serial",
    access_type="F",
)
EMBARGOED = row(
    publication_title="Hearing Research",
    print_identifier="0378-5955",
    date_first_issue_online="1995",
    num_first_vol_online="vol. 82",
    title_url="https://example.org/heares",
    title_id="heares",
    embargo_info="P1Y",
    coverage_depth="Fulltext",
    publication_type="serial",
    access_type="P",
)
# One title, two runs of coverage with a gap: KBART gives each run its own row.
EARLY_RUN = row(
    publication_title="Canadian Journal of Examples",
    print_identifier="0317-8471",
    date_first_issue_online="1980",
    date_last_issue_online="1989-12",
    num_first_vol_online="1",
    num_last_vol_online="10",
    title_url="https://example.org/cje",
    title_id="cje",
    coverage_depth="abstracts",
    publication_type="serial",
    access_type="P",
)
LATE_RUN = row(
    publication_title="Canadian Journal of Examples",
    print_identifier="0317-8471",
    date_first_issue_online="2005",
    num_first_vol_online="26",
    title_url="https://example.org/cje",
    title_id="cje",
    coverage_depth="fulltext",
    publication_type="serial",
    access_type="P",
)
BOOK = row(
    publication_title="The Theory of Examples",
    print_identifier="0-306-40615-2",
    online_identifier="978-3-16-148410-0",
    title_url="https://example.org/books/theory",
    first_author="Andersen",
    title_id="book-42",
    coverage_depth="fulltext",
    publisher_name="Harbor Academic",
    publication_type="monograph",
    date_monograph_published_print="2001",
    date_monograph_published_online="2002-05-17",
    monograph_volume="2",
    monograph_edition="3",
    first_editor="Berg",
    access_type="F",
)
BAD_CHECK_DIGIT_BOOK = row(
    publication_title="Typos in Print",
    print_identifier="0306406153",
    title_url="https://example.org/books/typos",
    publication_type="monograph",
    access_type="P",
)
URL_ONLY_BOOK = row(
    publication_title="A Report Without Numbers",
    title_url="https://example.org/books/report",
    publication_type="monograph",
    access_type="P",
)
GOOD_ROWS = [NATURE, PLOS, EMBARGOED, EARLY_RUN, LATE_RUN, BOOK, BAD_CHECK_DIGIT_BOOK, URL_ONLY_BOOK]

# Each bad row with a word its reason must contain.
BAD_ROWS = [
    ("\t".join(NATURE.split("\t")[:23]), "23 columns"),
    (row(print_identifier="0028-0836", publication_type="serial", access_type="P"), "publication_title"),
    (row(publication_title="Bad Date", print_identifier="0028-0836", date_first_issue_online="2001/05", publication_type="serial"), "date_first_issue_online"),
    (row(publication_title="Backwards", print_identifier="0028-0836", date_first_issue_online="2010-05", date_last_issue_online="2009", publication_type="serial"), "before"),
    (row(publication_title="Feb 30", print_identifier="0028-0836", date_last_issue_online="2010-02-30", publication_type="serial"), "date_last_issue_online"),
    (row(publication_title="Journal?", print_identifier="0028-0836", publication_type="journal"), "publication_type"),
    (row(publication_title="Depth", print_identifier="0028-0836", coverage_depth="everything", publication_type="serial"), "coverage_depth"),
    (row(publication_title="Access", print_identifier="0028-0836", publication_type="serial", access_type="O"), "access_type"),
    (row(publication_title="Nowhere", publication_type="monograph", access_type="P"), "title_url"),
    (row(publication_title="Embargo", print_identifier="0028-0836", embargo_info="1 year", publication_type="serial"), "embargo_info"),
]  # fmt: skip


def kbart_file(*rows: str, header: str = HEADER, newline: str = "\n", bom: bool = False) -> bytes:
    text = ("\ufeff" if bom else "") + newline.join([header, *rows]) + newline
    return text.encode("utf-8")


def read(data: bytes, **kwargs) -> list[kbart.KbartResult]:
    return list(kbart.read_kbart(io.BytesIO(data), **kwargs))


def by_title(results: list[kbart.KbartResult]) -> dict[str, kbart.Portfolio]:
    return {r.portfolio.publication_title: r.portfolio for r in results if r.portfolio}


# ---------------------------------------------------------------- rows


def test_every_row_is_a_portfolio_or_a_reject_with_its_reason_and_the_file_goes_on():
    bad_lines = [line for line, _ in BAD_ROWS]
    # Bad rows interleaved with good ones: a reject must not stop the rows after it.
    lines = [x for pair in itertools.zip_longest(GOOD_ROWS, bad_lines) for x in pair if x]
    lines.append(BOOK + "\t\t")  # trailing tabs: tolerated
    data = kbart_file(*lines).replace(b"Nowhere", b"Nowh\xe9re")  # a Latin-1 byte in a bad row
    results = read(data, provider="harbor", package="AllTitles")

    assert len(results) == len(lines)
    assert [r.position for r in results] == list(range(1, len(lines) + 1))
    assert [r.line for r in results] == list(range(2, len(lines) + 2))
    portfolios = [r for r in results if r.portfolio is not None]
    rejects = [r for r in results if r.portfolio is None]
    assert len(portfolios) == len(GOOD_ROWS) + 1
    assert len(rejects) == len(BAD_ROWS)
    assert all(r.error is None for r in portfolios)
    for result in results:  # the offset and raw bytes point at the row in the file
        assert data[result.offset : result.offset + len(result.raw)] == result.raw
    for (line, word), reject in zip(BAD_ROWS, rejects, strict=True):
        if b"Nowh" in reject.raw:
            assert "UTF-8" in reject.error
        else:
            assert word in reject.error, (line, reject.error)
            assert reject.raw == line.encode()
    assert {p.portfolio.provider for p in portfolios} == {"harbor"}
    assert {p.portfolio.package for p in portfolios} == {"AllTitles"}


def test_bom_and_crlf_give_the_same_portfolios_as_plain_lf():
    plain = read(kbart_file(*GOOD_ROWS))
    windows = read(kbart_file(*GOOD_ROWS, newline="\r\n", bom=True))
    assert [r.portfolio for r in windows] == [r.portfolio for r in plain]
    assert all(not r.raw.endswith(b"\r") for r in windows)


def test_blank_lines_are_not_rows():
    results = read(kbart_file(NATURE, "", "\t" * 24, PLOS, ""))
    assert [r.portfolio.publication_title for r in results] == ["Nature", "PLOS ONE"]
    assert [r.line for r in results] == [2, 5]


def test_serial_fields_are_normalized():
    found = by_title(read(kbart_file(*GOOD_ROWS)))
    nature = found["Nature"]
    assert nature.publication_type == "serial"
    assert [(i.role, i.kind, i.value, i.valid) for i in nature.identifiers] == [
        ("print", "issn", "0028-0836", True),
        ("online", "issn", "1476-4687", True),
    ]
    assert nature.coverage == (kbart.Coverage(start_date="1869-11-04", start_volume="1", start_issue="1"),)
    assert nature.coverage[0].open_ended
    assert nature.open_access is False
    assert nature.title_url == "https://www.nature.com/nature"
    assert nature.title_id == "nature"
    assert found["PLOS ONE"].open_access is True
    assert found["PLOS ONE"].title_id is None


def test_embargo_volume_prefix_and_coverage_depth_case():
    results = read(kbart_file(EMBARGOED))
    portfolio = results[0].portfolio
    assert portfolio.coverage[0].embargo == (kbart.Embargo("P", 1, "Y"),)
    assert portfolio.coverage[0].start_volume == "82"
    assert portfolio.coverage_depth == "fulltext"
    assert any("num_first_vol_online" in w for w in results[0].warnings)


def test_combined_embargo_and_a_title_in_two_rows_keeps_both_runs():
    rolling = NATURE.replace("\tnature\t\t", "\tnature\tR10Y;P1Y\t")
    [result] = read(kbart_file(rolling))
    assert result.portfolio.coverage[0].embargo == (kbart.Embargo("R", 10, "Y"), kbart.Embargo("P", 1, "Y"))

    early, late = (r.portfolio for r in read(kbart_file(EARLY_RUN, LATE_RUN)))
    assert early.match_keys() == late.match_keys() == ["issn:0317-8471"]
    assert (early.coverage[0].start_date, early.coverage[0].end_date) == ("1980", "1989-12")
    assert (late.coverage[0].start_date, late.coverage[0].end_date) == ("2005", None)
    assert (early.coverage_depth, late.coverage_depth) == ("abstracts", "fulltext")


def test_monograph_fields_and_identifiers():
    found = by_title(read(kbart_file(*GOOD_ROWS)))
    book = found["The Theory of Examples"]
    assert book.publication_type == "monograph"
    assert book.ids("isbn") == ["9780306406157", "9783161484100"]  # ISBN-10 made ISBN-13
    assert book.open_access is True
    assert book.coverage == ()
    assert (book.first_author, book.first_editor, book.monograph_edition) == ("Andersen", "Berg", "3")
    assert book.date_monograph_published_online == "2002-05-17"

    typos = found["Typos in Print"]
    assert typos.ids("isbn") == []
    assert typos.ids("isbn", valid=False) == ["0306406153"]  # kept as weak evidence
    assert typos.match_keys() == []
    assert found["A Report Without Numbers"].identifiers == ()


def test_invalid_identifier_is_a_warning_not_a_reject():
    [result] = read(kbart_file(BAD_CHECK_DIGIT_BOOK))
    assert result.error is None
    assert any("print_identifier" in w and "check digit" in w for w in result.warnings)


def test_missing_publication_type_is_taken_from_the_identifiers():
    untyped = NATURE.replace("\tserial\t", "\t\t")
    [result] = read(kbart_file(untyped))
    assert result.portfolio.publication_type == "serial"
    assert any("publication_type" in w for w in result.warnings)


def test_provider_columns_after_access_type_are_kept():
    header = HEADER + "\tzdb_id\tpackage_id"
    [result] = read(kbart_file(NATURE + "\t1234567-8\t", header=header))
    assert result.portfolio.extra == {"zdb_id": "1234567-8"}


# ---------------------------------------------------------------- header


def test_phase_one_name_coverage_notes_is_accepted():
    header = HEADER.replace("\tnotes\t", "\tcoverage_notes\t")
    [result] = read(kbart_file(NATURE.replace("\tfulltext\t\t", "\tfulltext\tfrom vol. 1\t"), header=header))
    assert result.portfolio.notes == "from vol. 1"


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (HEADER.replace("\tnotes\t", "\t"), ["missing notes"]),
        (
            HEADER.replace("first_author\ttitle_id", "title_id\tfirst_author"),
            ["out of order", "title_id (column 11)"],
        ),
        (HEADER.replace("\tnotes\t", "\tnotes\tprice\t"), ["unknown price", "only follow access_type"]),
        (HEADER + "\tnotes", ["notes"]),
        (NATURE, ["no KBART header row"]),
        (HEADER.replace("\t", ","), ["no KBART header row", "tab-separated"]),
    ],
)
def test_header_errors_say_what_to_fix(header, words):
    with pytest.raises(kbart.KbartHeaderError) as caught:
        kbart.read_kbart(io.BytesIO(kbart_file(NATURE, header=header)))  # raises before any row
    for word in words:
        assert word in str(caught.value)


def test_empty_file_is_a_header_error():
    with pytest.raises(kbart.KbartHeaderError, match="empty"):
        kbart.read_kbart(io.BytesIO(b""))


# ---------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("JSTOR_Global_AllTitles_2013-01-14.txt", ("JSTOR", "Global", "AllTitles", "2013-01-14", True)),
        (
            "feeds/harbor/Harbor_NorthConsortium_Back_Files_2026-01-15.txt.gz",
            ("Harbor", "NorthConsortium", "Back_Files", "2026-01-15", True),
        ),
        ("titles.tsv", (None, None, "titles", None, False)),
        ("ebooks_2026-02-01.txt", (None, None, "ebooks", "2026-02-01", False)),
        ("Harbor_Global_All_2026-02-30.txt", (None, None, "Harbor_Global_All_2026-02-30", None, False)),
    ],
)
def test_package_from_filename(name, expected):
    parsed = kbart.package_from_filename(name)
    assert (parsed.provider, parsed.region, parsed.package, parsed.date, parsed.conventional) == expected


# ---------------------------------------------------------------- match keys


def _marc_with(tag: str, value: str, level: str) -> Record:
    record = Record(force_utf8=True, leader=f"     na{level} a22     7i 4500")
    record.add_field(
        Field(tag="001", data="x1"),
        Field(tag=tag, indicators=Indicators(" ", " "), subfields=[Subfield("a", value)]),
        Field(tag="245", indicators=Indicators("0", "0"), subfields=[Subfield("a", "Something else")]),
    )
    return record


def _identifier_keys(record: Record) -> list[str]:
    return [k for k in matching.match_keys(record) if k.split(":")[0] in ("isbn", "issn", "oclc", "lccn")]


def test_portfolio_keys_are_the_keys_of_marc_records_with_the_same_identifiers():
    found = by_title(read(kbart_file(*GOOD_ROWS)))
    nature, book = found["Nature"], found["The Theory of Examples"]
    # A print record and an online record, each with one of the row's identifiers as cataloged.
    print_serial = _identifier_keys(_marc_with("022", "0028-0836", "s"))
    online_serial = _identifier_keys(_marc_with("022", "1476-4687", "s"))
    assert print_serial and online_serial
    assert set(nature.match_keys()) == set(print_serial + online_serial)
    print_book = _identifier_keys(_marc_with("020", "0306406152 (pbk.)", "m"))
    online_book = _identifier_keys(_marc_with("020", "9783161484100", "m"))
    assert print_book and online_book
    assert set(book.match_keys()) == set(print_book + online_book)


def test_a_monograph_issn_gives_no_key_as_on_the_marc_side():
    odd = BOOK.replace("978-3-16-148410-0", "0028-0836")
    [result] = read(kbart_file(odd))
    assert _identifier_keys(_marc_with("022", "0028-0836", "m")) == []
    assert result.portfolio.match_keys() == ["isbn:9780306406157"]


# ---------------------------------------------------------------- brief records


def test_brief_records_enter_the_catalog_as_electronic_resources():
    portfolios = [r.portfolio for r in read(kbart_file(*GOOD_ROWS))]
    for portfolio in portfolios:
        record = brief_records.brief_record(portfolio)
        assert screening.validate(record) is None, portfolio.publication_title
        assert marc.unpack(marc.pack(record)).as_dict() == record.as_dict()
        assert len(record["008"].data) == 40
        p = matching.profile(record)
        assert p.carrier == "electronic"
        assert p.level == ("s" if portfolio.publication_type == "serial" else "m")
        assert record["245"]["a"] == portfolio.publication_title
        assert record["856"]["u"] == portfolio.title_url
        # Loading the same row again finds this record: they share an identifier key.
        if portfolio.match_keys():
            assert set(portfolio.match_keys()) & set(matching.match_keys(record))


def test_brief_monograph_record_content():
    book = by_title(read(kbart_file(BOOK)))["The Theory of Examples"]
    record = brief_records.brief_record(book)
    assert record["001"].data == "book-42"
    assert [(f["a"], f["q"]) for f in record.get_fields("020")] == [
        ("9783161484100", "online"),
        ("9780306406157", "print"),
    ]
    assert record["100"]["a"] == "Andersen"
    assert record["250"]["a"] == "3rd ed."
    assert record["264"]["b"] == "Harbor Academic"
    assert record["264"]["c"] == "2002"
    assert record["008"].data[6:11] == "s2002"
    assert record["008"].data[23] == "o"
    assert record["506"]["a"] == "Open access"
    p = matching.profile(record)
    assert (p.year, p.edition, p.author) == (2002, 3, "andersen")


def test_brief_record_without_title_id_has_a_stable_derived_id():
    plos = by_title(read(kbart_file(PLOS)))["PLOS ONE"]
    first, again = brief_records.brief_record(plos), brief_records.brief_record(plos)
    assert first.as_dict() == again.as_dict()
    assert first["001"].data.startswith("kbart-")
    other = by_title(read(kbart_file(PLOS.replace("1932-6203", "2041-1723"))))["PLOS ONE"]
    assert brief_records.brief_record(other)["001"].data != first["001"].data
    in_another_package = by_title(read(kbart_file(PLOS), package="OpenAccess"))["PLOS ONE"]
    assert brief_records.brief_record(in_another_package)["001"].data == first["001"].data
    assert [f["a"] for f in first.get_fields("022")] == ["1932-6203"]


def test_invalid_isbn_goes_to_020_z():
    typos = by_title(read(kbart_file(BAD_CHECK_DIGIT_BOOK)))["Typos in Print"]
    record = brief_records.brief_record(typos)
    assert record["020"]["z"] == "0306406153"
    assert record["020"].get_subfields("a") == []
    assert normalize.identifiers(record)["isbn_invalid"] == ["0306406153"]
