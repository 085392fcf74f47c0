"""Filing source records into clusters: the domain of `record_match`, with storage behind a port.

Until matching lands, every source record has a cluster of its own; a record sent again by
the same provider under the same id updates its source record and cluster in place. Every
write is conditional on the item's version (see `CatalogStore`), so two workers filing the
same record never both create it, and a redelivered batch reproduces the outcomes it had.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from pymarc import Record

from netzone import marc, merge, normalize
from netzone.feeds import Outcome, RecordBatch, Reject, now


class VersionConflict(Exception):
    """Another writer changed the item first; re-read and try again."""


@dataclass
class SourceRecord:
    provider: str
    source_id: str
    cluster_id: str
    content_hash: str
    record: Record
    identifiers: dict[str, list[str]]
    title: str
    version: int = 0
    withdrawn: bool = False
    # The job and position that last wrote this record, and the outcome it got there: a
    # redelivered batch finds them and reports the same outcome without writing again.
    last_job: str | None = None
    last_position: int | None = None
    last_outcome: str | None = None
    updated_at: str | None = None


@dataclass
class Cluster:
    cluster_id: str
    record: Record
    sources: list[str]  # "provider|source id"
    title: str
    status: str = "active"  # or "withdrawn": a tombstone that discovery still answers for
    version: int = 0
    datestamp: str | None = None


def source_key(provider: str, source_id: str) -> str:
    return f"{provider}|{source_id}"


class CatalogStore(Protocol):
    def get_sources(self, keys: list[tuple[str, str]]) -> dict[str, SourceRecord]: ...
    def get_cluster(self, cluster_id: str) -> Cluster | None: ...

    def save(self, source: SourceRecord, cluster: Cluster, *, new_source: bool, new_cluster: bool) -> None:
        """Write both items in one transaction, each conditional on its previous version.

        On success both objects carry their new version; a lost race raises VersionConflict.
        """
        ...


def new_cluster_id() -> str:
    """Time-ordered (so harvesters see clusters in creation order) and unguessable."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def content_hash(record: Record) -> str:
    return hashlib.sha256(marc.canonical_json(record)).hexdigest()[:32]


def title_of(record: Record) -> str:
    return (record.title or "").strip(" /:;,.=")


@dataclass
class BatchResult:
    counts: Counter = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)


def file_batch(batch: RecordBatch, store: CatalogStore, *, retries: int = 5) -> BatchResult:
    """File every record of a batch; returns the outcome counts (they sum to the batch size)."""
    result = BatchResult()
    keys = list(dict.fromkeys((batch.provider, r.source_id) for r in batch.records))
    known = store.get_sources(keys)
    for item in batch.records:
        record = marc.marc_json_to_record(item.marc)
        for attempt in range(retries):
            try:
                outcome, cluster_id = _file_one(batch, item.position, item.source_id, record, known, store)
                break
            except VersionConflict:
                if attempt == retries - 1:
                    raise
                known.update(store.get_sources([(batch.provider, item.source_id)]))
        if outcome == "rejected":
            result.rejects.append(
                Reject(
                    position=item.position,
                    source_id=item.source_id,
                    reason="deletion of a record the network does not hold",
                )
            )
        result.counts[outcome] += 1
        if cluster_id:
            result.clusters.append(cluster_id)
    return result


def _file_one(
    batch: RecordBatch,
    position: int,
    source_id: str,
    record: Record,
    known: dict[str, SourceRecord],
    store: CatalogStore,
) -> tuple[Outcome, str | None]:
    existing = known.get(source_key(batch.provider, source_id))
    if existing and existing.last_job == batch.job_id and existing.last_position == position:
        return existing.last_outcome, existing.cluster_id  # type: ignore[return-value]
    deleted = str(record.leader)[5] == "d"
    if deleted:
        if existing is None or existing.withdrawn:
            return ("rejected", None) if existing is None else ("unchanged", existing.cluster_id)
        return _withdraw(batch, position, existing, store), existing.cluster_id
    digest = content_hash(record)
    if existing is not None and existing.content_hash == digest and not existing.withdrawn:
        return "unchanged", existing.cluster_id

    new_source = existing is None
    cluster_id = existing.cluster_id if existing else new_cluster_id()
    source = SourceRecord(
        provider=batch.provider,
        source_id=source_id,
        cluster_id=cluster_id,
        content_hash=digest,
        record=record,
        identifiers=normalize.identifiers(record),
        title=title_of(record),
        version=existing.version if existing else 0,
        last_job=batch.job_id,
        last_position=position,
        last_outcome="created" if new_source else "merged",
        updated_at=now(),
    )
    cluster = store.get_cluster(cluster_id) if existing else None
    members = sorted(set(cluster.sources if cluster else []) | {source_key(batch.provider, source_id)})
    network = merge.network_record(cluster_id, [merge.Source(batch.provider, source_id, record)])
    updated = Cluster(
        cluster_id=cluster_id,
        record=network,
        sources=members,
        title=title_of(network),
        version=cluster.version if cluster else 0,
        datestamp=now(),
    )
    store.save(source, updated, new_source=new_source, new_cluster=cluster is None)
    known[source_key(batch.provider, source_id)] = source  # later records in this batch see the write
    return source.last_outcome, cluster_id  # type: ignore[return-value]


def _withdraw(batch: RecordBatch, position: int, existing: SourceRecord, store: CatalogStore) -> Outcome:
    cluster = store.get_cluster(existing.cluster_id)
    existing.withdrawn = True
    existing.last_job, existing.last_position, existing.last_outcome = batch.job_id, position, "withdrawn"
    existing.updated_at = now()
    if cluster is None:
        raise VersionConflict(f"cluster {existing.cluster_id} of {existing.source_id} is missing")
    key = source_key(existing.provider, existing.source_id)
    cluster.sources = [s for s in cluster.sources if s != key]
    if not cluster.sources:
        cluster.status = "withdrawn"  # a tombstone: discovery answers "gone", harvesters see a deletion
    cluster.datestamp = now()
    store.save(existing, cluster, new_source=False, new_cluster=False)
    return "withdrawn"
