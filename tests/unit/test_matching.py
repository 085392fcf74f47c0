"""netzone.matching: profiles, match keys, comparisons and decisions. Pure domain, no AWS."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import Field, Indicators, Record, Subfield

from netzone import marc
from netzone.matching import (
    MAX_KEY_LENGTH,
    MAX_KEYS,
    Comparison,
    Profile,
    compare,
    compare_profiles,
    default_model,
    match_keys,
    profile,
)
from netzone.matching.features import compare_fields
from tests.benchmarks import corpora

MATCHING = Path(__file__).resolve().parents[2] / "layers" / "core" / "netzone" / "matching"


def read_first(path: Path, index: int = 0) -> Record:
    with open(path, "rb") as stream:
        _, results = marc.read_records(stream)
        records = [r.record for r in results if r.record is not None]
    return records[index]


def book(
    title: str = "The armies of labor :",
    subtitle: str | None = "a chronicle of the organized wage-earners /",
    author: str | None = "Orth, Samuel Peter,",
    year: int = 1920,
    publisher: str = "Yale University Press,",
    place: str = "New Haven :",
    extent: str = "ix, 279 p. :",
    height: str = "21 cm.",
    isbns: tuple[str, ...] = (),
    oclc: str | None = None,
    edition: str | None = None,
    part: str | None = None,
    fixed: str | None = None,
    extra: tuple[Field, ...] = (),
) -> Record:
    """A book record shaped like the Goldfinch ones, with the elements a test varies."""
    record = Record(force_utf8=True)
    record.leader = "00000cam a2200000 a 4500"
    record.add_field(Field(tag="008", data=fixed or f"880719s{year}    ctu           000 0 eng d"))
    for isbn in isbns:
        record.add_field(Field("020", Indicators(" ", " "), [Subfield("a", isbn)]))
    if oclc:
        record.add_field(Field("035", Indicators(" ", " "), [Subfield("a", f"(OCoLC){oclc}")]))
    if author:
        record.add_field(Field("100", Indicators("1", " "), [Subfield("a", author)]))
    title_subfields = [Subfield("a", title)]
    if subtitle:
        title_subfields.append(Subfield("b", subtitle))
    if part:
        title_subfields.append(Subfield("n", part))
    record.add_field(Field("245", Indicators("1", "4"), title_subfields))
    if edition:
        record.add_field(Field("250", Indicators(" ", " "), [Subfield("a", edition)]))
    record.add_field(
        Field(
            "260",
            Indicators(" ", " "),
            [Subfield("a", place), Subfield("b", publisher), Subfield("c", f"{year}.")],
        )
    )
    record.add_field(Field("300", Indicators(" ", " "), [Subfield("a", extent), Subfield("c", height)]))
    for field in extra:
        record.add_field(field)
    return record


# ---- the comparison API ----------------------------------------------------------------------


def test_a_record_matches_a_copy_of_itself():
    result = compare(book(), book())
    assert isinstance(result, Comparison)
    assert result.decision == "match"
    assert 0.0 <= result.score <= 1.0
    assert not result.conflicts


def test_catalogers_variations_still_match():
    # The same book catalogued twice (from Goldfinch val): punctuation, abbreviations, no 300 $c.
    a = book(publisher="Yale university press,", extent="ix, 279 p., [4] leaves of plates :")
    b = book(
        title="The armies of labor;",
        subtitle="a chronicle of the organized wage-earners,",
        author="Orth, Samuel Peter, 1873-1922.",
        place="New Haven,",
        publisher="Yale University Press;",
    )
    assert compare(a, b).decision == "match"


def test_different_books_by_one_author_are_distinct():
    a = book()
    b = book(
        title="Our foreigners :",
        subtitle="a chronicle of Americans in the making /",
        year=1921,
        extent="xi, 255 p.",
    )
    assert compare(a, b).decision == "distinct"


def test_evidence_is_readable_and_adds_up_to_the_score():
    import math

    result = compare(book(), book(year=1921, edition="2d ed."))
    model = default_model()
    logit = model.scorers["monograph"].bias + sum(e.weight for e in result.evidence)
    assert result.score == pytest.approx(1 / (1 + math.exp(-logit)))
    features = {e.feature for e in result.evidence}
    assert {"title", "author", "year", "edition", "pages", "publisher", "format"} <= features
    text = result.explain()
    assert result.decision in text and "year: one_apart (1920 / 1921)" in text
    assert json.loads(json.dumps(result.to_dict()))["decision"] == result.decision


@pytest.mark.parametrize(
    ("change", "conflict"),
    [
        ({"edition": "3rd ed."}, "edition"),
        ({"part": "v. 2."}, "part"),
        ({"year": 1935}, "year"),
        ({"extra": (Field(tag="007", data="he bmb024baca"),)}, "format"),
    ],
)
def test_shared_identifiers_never_override_a_clear_conflict(change, conflict):
    """A shared OCLC number and ISBN, and everything else equal, but another edition, volume,
    date or carrier: asked, never merged."""
    base = {"isbns": ("0306406152",), "oclc": "12345", "edition": "2nd ed.", "part": "v. 1."}
    a = book(**base)
    b = book(**{**base, **change})
    result = compare(a, b)
    assert result.decision == "review"
    assert conflict in {e.feature for e in result.conflicts}
    assert {"oclc", "isbn"} <= {e.feature for e in result.evidence if e.weight > 0}


def test_a_set_isbn_shared_by_two_volumes_is_not_a_match():
    a = book(isbns=("0306406152 (set)", "0-8044-2957-X (v. 1)"), part="v. 1.")
    b = book(isbns=("0306406152 (set)", "9780306406157 (v. 2)"), part="v. 2.")
    result = compare(a, b)
    assert result.decision != "match"
    assert {("isbn", "weak")} <= {(e.feature, e.level) for e in result.evidence}


def test_the_same_isbn_ten_and_thirteen_match(corpus):
    folder = corpus / "indexdata-matchkeys/js/test/records/numbers"
    a, b = read_first(folder / "isbn.json"), read_first(folder / "isbnDupe.json")
    result = compare(a, b)
    assert result.decision == "match"
    assert ("isbn", "same") in {(e.feature, e.level) for e in result.evidence}


def test_print_and_electronic_editions_of_one_work_do_not_merge(corpus):
    folder = corpus / "folio-mod-reservoir/js/test/records"
    result = compare(
        read_first(folder / "blinky-nutsy-gutenberg.json"), read_first(folder / "blinky-nutsy-nla.json")
    )
    assert result.decision != "match"
    assert ("format", "carrier_differs") in {(e.feature, e.level) for e in result.conflicts}


def test_two_editions_of_candide_are_distinct(corpus):
    folder = corpus / "openlibrary/marc_test_data/bin_input"
    result = compare(read_first(folder / "bpl_0486266893.mrc"), read_first(folder / "lc_1416500308.mrc"))
    assert result.decision == "distinct"


def test_gold_pairs_decisions(corpus):
    """Every curated pair of real files: matches merge, non-matches do not."""
    pairs, _ = corpora.gold_pairs()
    assert len(pairs) >= 30
    for pair in pairs:
        result = compare(pair.a, pair.b)
        assert (result.decision == "match") == bool(pair.label), (pair.note, result.explain())
        if pair.label:
            assert set(match_keys(pair.a)) & set(match_keys(pair.b)), pair.note


def test_comparison_is_symmetric(corpus):
    records, pairs = corpora.goldfinch("val")
    for a, b, _ in pairs[:300]:
        one, other = compare(records[a], records[b]), compare(records[b], records[a])
        assert one.score == pytest.approx(other.score)
        assert one.decision == other.decision


def test_goldfinch_records_carry_no_label(corpus):
    records, _ = corpora.goldfinch("val")
    assert not any(record.get("CID") for record in list(records.values())[:2000])


def test_component_parts_use_their_own_scorer():
    a = corpora.article_record(
        "Query optimization by predicate move-around", "Inderpal Singh Mumick, Alon Y. Levy", "VLDB", 1994
    )
    b = corpora.article_record(
        "Query optimization by predicate move-around",
        "Alon Y. Levy, Inderpal Singh Mumick",
        "Very Large Data Bases",
        1994,
    )
    c = corpora.article_record(
        "Including group-by in query optimization", "Surajit Chaudhuri, Kyuseok Shim", "VLDB", 1994
    )
    assert compare(a, b).decision == "match"
    assert ("host", "acronym") in {(e.feature, e.level) for e in compare(a, b).evidence}
    assert compare(a, c).decision == "distinct"
    # an article and a book never merge
    assert (
        compare(a, book(title="Query optimization by predicate move-around", subtitle=None)).decision
        != "match"
    )


# ---- profiles ------------------------------------------------------------------------------------


def test_profile_round_trips_through_json(corpus):
    record = read_first(corpus / "marc4j/test/resources/summerland.mrc")
    p = profile(record)
    stored = json.loads(json.dumps(p.to_dict()))
    restored = Profile.from_dict(stored)
    assert restored == p
    assert compare_profiles(restored, profile(record)).score == compare(record, record).score


def test_profile_from_dynamodb_numbers():
    from decimal import Decimal

    p = profile(book())
    stored = {
        k: (
            Decimal(v)
            if isinstance(v, int)
            else [Decimal(x) if isinstance(x, int) else x for x in v]
            if isinstance(v, list)
            else v
        )
        for k, v in p.to_dict().items()
    }
    stored["a_field_from_a_later_version"] = "ignored"
    assert Profile.from_dict(stored) == p


def test_profile_of_summerland(corpus):
    p = profile(read_first(corpus / "marc4j/test/resources/summerland.mrc"))
    assert p.title == "summerland"
    assert p.author == "chabon michael"
    assert p.year == 2002
    assert p.isbn == ("9780786808779", "9780786816156")  # hardcover and "(pbk.)": both this edition's
    assert p.isbn_other == ()


# ---- match keys ------------------------------------------------------------------------------------


def test_match_keys_are_few_short_and_stable():
    record = book(isbns=("0306406152", "080442957X", "9780306406157 (pbk.)"), oclc="ocm00012345")
    keys = match_keys(record)
    assert keys == match_keys(copy.deepcopy(record))
    assert 1 <= len(keys) <= MAX_KEYS
    assert all(len(k) <= MAX_KEY_LENGTH for k in keys)
    assert "oclc:12345" in keys and "isbn:9780306406157" in keys
    assert any(k.startswith("ta:") for k in keys) and any(k.startswith("ty:") for k in keys)


def test_records_without_identifiers_still_meet_their_duplicates():
    a = book(title="The armies of labor :", author="Orth, Samuel P.")
    b = book(title="The armies of labour", subtitle=None, author=None, year=1920)
    assert not any(k.split(":")[0] in ("isbn", "oclc", "lccn") for k in match_keys(a) + match_keys(b))
    assert set(match_keys(a)) & set(match_keys(b))


def test_very_long_fields_give_bounded_keys():
    long_title = " ".join(["Pneumonoultramicroscopicsilicovolcanoconiosis"] * 40)
    keys = match_keys(book(title=long_title, author="X" * 500, extent="1 v."))
    assert all(len(k) <= MAX_KEY_LENGTH for k in keys)


# ---- properties ----------------------------------------------------------------------------------

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_words, min_size=2, max_size=8), st.sampled_from([" :", " /", ".", ",", ";", ""]), st.booleans()
)
def test_case_and_isbd_punctuation_do_not_change_the_comparison(words, punctuation, upper):
    title = " ".join(words)
    variant = (title.upper() if upper else title.title()) + punctuation
    a, b = book(title=title, subtitle=None), book(title=variant, subtitle=None)
    assert [lv.level for lv in compare_fields(profile(a), profile(b))] == [
        lv.level for lv in compare_fields(profile(a), profile(a))
    ]
    assert set(match_keys(a)) == set(match_keys(b))


# ---- shipping: pure Python, parameters as data -------------------------------------------------


def test_the_layer_imports_nothing_but_the_standard_library_and_pymarc():
    import sys

    allowed = set(sys.stdlib_module_names) | {"pymarc", "netzone"}
    for path in MATCHING.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_shipped_weights_are_consistent():
    data = json.loads((MATCHING / "weights.json").read_text())
    for kind, scorer in data["scorers"].items():
        thresholds = scorer["thresholds"]
        assert 0 < thresholds["review"] <= thresholds["match"] < 1, kind
        assert thresholds["conflict_review"] <= thresholds["match"], kind
        for feature, levels in scorer["weights"].items():
            reference = data["reference_levels"][feature]
            assert reference not in levels, (kind, feature)  # the reference level weighs nothing
    assert set(data["scorers"]) == {"monograph", "component"}


def test_thin_records_alike_only_in_title_and_date_are_asked_about():
    def thin(title: str) -> Record:
        record = Record(force_utf8=True)
        record.leader = "00000nam a2200000   4500"
        record.add_field(Field(tag="008", data="880719s1990    xx            000 0 eng d"))
        record.add_field(Field("245", Indicators("0", "0"), [Subfield("a", title)]))
        return record

    a, b = thin("A history of the county of Middlesex"), thin("A history of the county of Middlesex.")
    result = compare(a, b)
    assert result.score >= default_model().scorers["monograph"].match_threshold
    assert result.decision == "review"
    # the same pair with a shared author is corroborated
    for record in (a, b):
        record.add_field(Field("100", Indicators("1", " "), [Subfield("a", "Baker, T. F. T.")]))
    assert compare(a, b).decision == "match"
