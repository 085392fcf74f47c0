import pytest

from netzone import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0-306-40615-2 (pbk.)", "9780306406157"),
        ("0306406152", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("9780306406157 (hardcover : alk. paper)", "9780306406157"),
        ("080442957X", "9780804429573"),
        ("0-306-40615-3", None),  # wrong check digit
        ("9780306406158", None),
        ("$24.95", None),
        ("", None),
    ],
)
def test_isbn(text, expected):
    assert normalize.isbn(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0378-5955", "0378-5955"),
        ("0378 5955 (Print)", "0378-5955"),
        ("2434-561X", "2434-561X"),
        ("0378-5954", None),
    ],
)
def test_issn(text, expected):
    assert normalize.issn(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(OCoLC)ocm00012345", "12345"),
        ("(OCoLC)ocn123456789", "123456789"),
        ("(OCoLC)on1234567890", "1234567890"),
        ("(OCoLC)0001234", "1234"),
        ("ocm12345 ", "12345"),
        ("(OCoLC-M)12345", None),
        ("(DLC)12345", None),
        ("DL(OCoLC)12345", None),
    ],
)
def test_oclc(text, expected):
    assert normalize.oclc(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    # Examples from https://www.loc.gov/marc/lccn-namespace.html
    [
        ("n78-890351", "n78890351"),
        ("n78-89035", "n78089035"),
        ("n 78890351 ", "n78890351"),
        (" 85000002 ", "85000002"),
        ("85-2 ", "85000002"),
        ("2001-000002", "2001000002"),
        ("75-425165//r75", "75425165"),
        (" 79139101 /AC/r932", "79139101"),
        ("not an lccn", None),
    ],
)
def test_lccn(text, expected):
    assert normalize.lccn(text) == expected


def test_identifiers_of_a_synthetic_record():
    from demo.feeds import synthetic_records

    record = next(synthetic_records(1))
    found = normalize.identifiers(record)
    assert found["isbn"] == [normalize.isbn(record["020"]["a"])]
    assert found["oclc"] == [normalize.oclc(record["035"]["a"])]


def test_bad_isbns_from_evergreen_are_weak_or_absent(corpus):
    from pymarc import parse_xml_to_array

    records = parse_xml_to_array(str(corpus / "evergreen" / "badisbns.xml"))
    assert records
    for record in records:
        for value in normalize.identifiers(record).get("isbn") or []:
            assert len(value) == 13 and value.isdigit()
