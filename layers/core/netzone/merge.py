"""The network record of a cluster: a pure function of its member source records.

Sources are taken in a canonical order (provider, source id), so the result never depends on
the order records arrived in, and replaying a feed gives the identical record. The network
record carries the cluster id in 001 and one 035 per source, "(<provider>)<source id>", which is
the provenance a cataloger needs to find each contributing record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pymarc import Field, Indicators, Record, Subfield

NETWORK_ORGANIZATION = "netzone"


@dataclass(frozen=True, slots=True)
class Source:
    provider: str
    source_id: str
    record: Record


def provenance_id(provider: str, source_id: str) -> str:
    return f"({provider}){source_id}"


def network_record(cluster_id: str, sources: Sequence[Source]) -> Record:
    if not sources:
        raise ValueError("a network record needs at least one source record")
    ordered = sorted(sources, key=lambda s: (s.provider, s.source_id))
    base = ordered[0].record
    record = Record(leader=str(base.leader), force_utf8=True)
    record.leader.coding_scheme = "a"  # stored and served as Unicode, whatever the source's encoding
    record.add_field(Field(tag="001", data=cluster_id), Field(tag="003", data=NETWORK_ORGANIZATION))
    provenance = [provenance_id(s.provider, s.source_id) for s in ordered]
    for field in base.fields:
        if field.tag in ("001", "003"):
            continue
        if field.tag == "035" and any(v in provenance for v in field.get_subfields("a")):
            continue
        record.add_ordered_field(field)
    for value in provenance:
        record.add_ordered_field(
            Field(tag="035", indicators=Indicators(" ", " "), subfields=[Subfield("a", value)])
        )
    return record
