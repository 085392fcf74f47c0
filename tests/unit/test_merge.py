import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from pymarc import Field, Indicators, Subfield

from demo.feeds import synthetic_records
from netzone import marc, merge
from netzone.merge import Source


def _sources():
    base, other, third = (marc.unpack(marc.pack(r)) for r in synthetic_records(3, "harbor"))
    # Three descriptions of one book: same title, different identifiers and subjects.
    for record in (other, third):
        record.remove_fields("245")
        record.add_ordered_field(base["245"])
    other.add_ordered_field(
        Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", "Harbours.")])
    )
    third.add_ordered_field(
        Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", "harbours")])
    )
    third.add_ordered_field(
        Field(tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", base["020"]["a"])])
    )
    return [
        Source("harbor", "h1", base, priority=80),
        Source("meridian", "m7", other, priority=50),
        Source("lku", "b12", third, priority=50),
    ]


def test_every_order_of_sources_gives_the_same_record():
    sources = _sources()
    outputs = {
        marc.canonical_json(merge.network_record("c1", list(p))) for p in itertools.permutations(sources)
    }
    assert len(outputs) == 1


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(3)), st.lists(st.integers(1, 100), min_size=3, max_size=3))
def test_order_independence_holds_for_any_priorities(order, priorities):
    sources = [
        Source(s.provider, s.source_id, s.record, p) for s, p in zip(_sources(), priorities, strict=True)
    ]
    shuffled = [sources[i] for i in order]
    assert marc.canonical_json(merge.network_record("c1", shuffled)) == marc.canonical_json(
        merge.network_record("c1", sources)
    )


def test_priority_picks_the_base_and_identifiers_and_subjects_are_unioned_once():
    sources = _sources()
    result = merge.merge("c1", sources)
    record = result.record
    assert result.base == "harbor|h1"
    assert record["245"]["a"] == sources[0].record["245"]["a"]
    isbns = [f["a"] for f in record.get_fields("020")]
    assert len(isbns) == len(set(isbns)) == 3  # one per source record; lku's extra copy of base's is dropped
    subjects = [f["a"].strip(".").casefold() for f in record.get_fields("650")]
    assert subjects.count("harbours") == 1
    provenance = {f["a"] for f in record.get_fields("035") if f["a"].startswith("(")}
    assert {"(harbor)h1", "(meridian)m7", "(lku)b12"} <= provenance
    by_tag = {(p["tag"], p["source"]) for p in result.provenance}
    assert ("245", "harbor|h1") in by_tag and ("650", "meridian|m7") in by_tag


def test_fuller_encoding_level_wins_a_priority_tie():
    brief, full = (marc.unpack(marc.pack(r)) for r in synthetic_records(2, "x"))
    brief.leader = brief.leader[:17] + "3" + brief.leader[18:]
    result = merge.merge("c1", [Source("a", "1", brief), Source("b", "2", full)])
    assert result.base == "b|2"


def test_remerging_is_byte_identical():
    sources = _sources()
    first = marc.canonical_json(merge.network_record("c1", sources))
    assert first == marc.canonical_json(merge.network_record("c1", sources))


def test_a_provider_managed_record_outranks_community_sources_and_contributions():
    from netzone.providers import FeedProvider

    low_but_managed = FeedProvider(code="natlib", source_priority=10, management_level="provider")
    high_community = FeedProvider(code="harbor", source_priority=100, management_level="community")
    assert low_but_managed.merge_priority > high_community.merge_priority > merge.DEFAULT_PRIORITY
    harbor, natlib = _sources()[:2]
    ranked = [
        Source("harbor", harbor.source_id, harbor.record, high_community.merge_priority),
        Source("natlib", natlib.source_id, natlib.record, low_but_managed.merge_priority),
        Source("member.lku", "c1", harbor.record, merge.DEFAULT_PRIORITY),
    ]
    assert merge.merge("c1", ranked).base == f"natlib|{natlib.source_id}"
