"""The network record of a cluster: a pure function of its member source records.

Rules, in the spirit of a careful cataloger:
- the **base** record gives the description (title, edition, imprint, extent, notes, access
  points): it is the source with the highest provider priority, then the fullest encoding
  level (Leader/17), then the most fields; ties are broken by provider and source id, so the
  choice never depends on arrival order;
- **identifiers** (010, 015, 016, 020, 022, 024, 027, 028, 035) and **subjects** (6XX) are the
  union over all sources, each once (ISBNs compared in normalized form), in a canonical order;
- **provenance**: 001 holds the cluster id, one 035 "(<provider>)<source id>" per source, and
  `MergeResult.provenance` says which source gave each field of the network record.

Re-merging the same sources gives byte-identical output; every permutation of the sources
gives the same record (property-tested).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from pymarc import Field, Indicators, Record, Subfield

from netzone import normalize

NETWORK_ORGANIZATION = "netzone"
DEFAULT_PRIORITY = 50
IDENTIFIER_TAGS = ("010", "015", "016", "020", "022", "024", "027", "028", "035")
# Leader/17, fullest first: full, full not examined, less-than-full, ..., prepublication, unknown.
ENCODING_RANK = {
    " ": 0,
    "1": 1,
    "I": 1,
    "4": 2,
    "2": 3,
    "7": 4,
    "K": 4,
    "5": 5,
    "M": 5,
    "L": 5,
    "8": 6,
    "3": 7,
    "u": 8,
    "z": 9,
}


@dataclass(frozen=True, slots=True)
class Source:
    provider: str
    source_id: str
    record: Record
    priority: int = DEFAULT_PRIORITY


@dataclass
class MergeResult:
    record: Record
    base: str  # "provider|source id" of the base record
    provenance: list[dict] = dataclasses.field(
        default_factory=list
    )  # [{"tag", "source", "value"}], in record order


def provenance_id(provider: str, source_id: str) -> str:
    return f"({provider}){source_id}"


def _key(source: Source) -> str:
    return f"{source.provider}|{source.source_id}"


def rank(source: Source) -> tuple:
    """Sort key: the best base record first."""
    leader = str(source.record.leader)
    encoding = ENCODING_RANK.get(leader[17] if len(leader) > 17 else "u", 8)
    return (-source.priority, encoding, -len(source.record.fields), source.provider, source.source_id)


def _signature(field: Field) -> tuple:
    """What makes two fields the same for de-duplication (case and ISBD punctuation aside)."""
    if field.is_control_field():
        return (field.tag, field.data)
    if field.tag == "020":
        isbns = [normalize.isbn(v) or v for v in field.get_subfields("a", "z")]
        return (field.tag, tuple(isbns))
    text = tuple(
        (s.code, s.value.strip(" .,;:/").casefold())
        for s in field.subfields
        if s.code not in ("0", "1", "5", "9")
    )
    return (field.tag, field.indicator2 if field.tag.startswith("6") else "", text)


def _sort_key(field: Field) -> tuple:
    return (field.tag, str(field))


def merge(cluster_id: str, sources: Sequence[Source]) -> MergeResult:
    if not sources:
        raise ValueError("a network record needs at least one source record")
    ordered = sorted(sources, key=rank)
    base = ordered[0]
    record = Record(leader=str(base.record.leader), force_utf8=True)
    record.leader.coding_scheme = "a"  # stored and served as Unicode, whatever the sources' encodings
    record.add_field(Field(tag="001", data=cluster_id), Field(tag="003", data=NETWORK_ORGANIZATION))
    provenance_ids = {provenance_id(s.provider, s.source_id) for s in ordered}
    provenance: dict[int, str] = {}

    seen: set[tuple] = set()
    added: list[tuple[Field, str]] = []
    for field in base.record.fields:
        if field.tag in ("001", "003", "005") or _is_provenance_035(field, provenance_ids):
            continue
        seen.add(_signature(field))
        added.append((field, _key(base)))
    # Union of identifiers and subjects from the other sources, in a canonical order.
    extras: list[tuple[Field, str]] = []
    for source in ordered[1:]:
        for field in source.record.fields:
            if not (field.tag in IDENTIFIER_TAGS or field.tag.startswith("6")) or _is_provenance_035(
                field, provenance_ids
            ):
                continue
            signature = _signature(field)
            if signature in seen:
                continue
            seen.add(signature)
            extras.append((field, _key(source)))
    extras.sort(key=lambda pair: (_sort_key(pair[0]), pair[1]))
    for source in sorted(ordered, key=lambda s: (s.provider, s.source_id)):
        extras.append(
            (
                Field(
                    tag="035",
                    indicators=Indicators(" ", " "),
                    subfields=[Subfield("a", provenance_id(source.provider, source.source_id))],
                ),
                _key(source),
            )
        )
    for field, origin in added + extras:
        record.add_ordered_field(field)
        provenance[id(field)] = origin
    trail = [
        {"tag": f.tag, "source": provenance.get(id(f), "network"), "value": f.value()[:80]}
        for f in record.fields
    ]
    return MergeResult(record=record, base=_key(base), provenance=trail)


def network_record(cluster_id: str, sources: Sequence[Source]) -> Record:
    return merge(cluster_id, sources).record


def _is_provenance_035(field: Field, provenance_ids: set[str]) -> bool:
    return field.tag == "035" and any(v in provenance_ids for v in field.get_subfields("a"))
