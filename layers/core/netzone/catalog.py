"""The shared catalog's records and the store that holds them.

A provider's record is a **source record** (`SourceRecord`, "provider|source id"); the source
records that describe one manifestation form a **cluster**, whose network record is a pure
function of its members (`netzone.merge`). **Key items** (`KeyEntry`) map a match key to the
clusters holding it, so candidates are found by key, never by a scan; a **review task** asks a
cataloger where a record belongs when matching is not sure.

`CatalogStore` is the port: batch reads by key, and `commit`, which writes a `Commit` (every
item with the version it was read at) in one transaction or not at all. Filing records into
clusters is `netzone.record_filing`; writing one record's change is `netzone.cluster_writer`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymarc import Record

from netzone import marc, merge
from netzone.jobs import Outcome

MAX_CANDIDATES = 20  # clusters compared per record; more means the keys are too broad
# A match key held by this many clusters says nothing about identity (a common title and
# author): it stops growing and is not used to find candidates. Without the cap a key item
# would grow with the catalog, cost a rewrite of its whole list per record, and pass
# DynamoDB's 400 KB item limit on a large network.
MAX_KEY_CLUSTERS = 100


@dataclass
class SourceRecord:
    provider: str
    source_id: str
    cluster_id: str
    content_hash: str
    record: Record
    identifiers: dict[str, list[str]]
    title: str
    profile: dict[str, Any] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    apart: list[str] = field(default_factory=list)  # source keys a cataloger kept apart from this one
    version: int = 0
    withdrawn: bool = False
    # The job and position that last wrote this record, and the outcome it got there.
    last_job: str | None = None
    last_position: int | None = None
    last_outcome: Outcome | None = None
    updated_at: str | None = None
    # The seen mark of the newest file that held this record (a full-replacement feed
    # withdraws the rest; `batches.seen_mark`).
    seen_mark: str | None = None
    # Made from a KBART row, not sent as MARC: it goes with its portfolios (withdrawn with the
    # last of them), never with the provider's full-replacement MARC files.
    brief: bool = False

    @property
    def key(self) -> str:
        return source_key(self.provider, self.source_id)


@dataclass
class Cluster:
    cluster_id: str
    record: Record | None
    sources: list[str]  # "provider|source id"
    title: str
    status: str = "active"  # "withdrawn": every source deleted; "merged": folded into merged_into
    version: int = 0
    datestamp: str | None = None
    keys: list[str] = field(default_factory=list)
    profiles: dict[str, dict] = field(default_factory=dict)  # member source key -> match profile
    provenance: list[dict] = field(default_factory=list)
    merged_into: str | None = None


@dataclass
class KeyEntry:
    key: str
    clusters: list[str]
    version: int = 0


@dataclass
class ReviewTask:
    task_id: str
    source: str  # the source record that raised the question
    cluster_id: str  # where that record sits meanwhile
    candidates: list[dict]  # [{"cluster_id", "title", "score", "decision", "evidence"}]
    status: str = "open"  # open, accepted, rejected, void
    created_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    decision: dict | None = None
    version: int = 0


@dataclass
class Commit:
    """One transaction: each item with the version it was read at (None: must not exist yet)."""

    sources: list[tuple[SourceRecord, int | None]] = field(default_factory=list)
    clusters: list[tuple[Cluster, int | None]] = field(default_factory=list)
    keys: list[tuple[KeyEntry, int | None]] = field(default_factory=list)
    tasks: list[tuple[ReviewTask, int | None]] = field(default_factory=list)
    audit: list[dict] = field(default_factory=list)


class CatalogStore(Protocol):
    def get_sources(self, keys: list[tuple[str, str]]) -> dict[str, SourceRecord]: ...
    def get_clusters(self, cluster_ids: list[str]) -> dict[str, Cluster]: ...
    def get_keys(self, keys: list[str]) -> dict[str, KeyEntry]: ...
    def get_task(self, task_id: str) -> ReviewTask | None: ...

    def commit(self, change: Commit) -> None:
        """Write everything or nothing; VersionConflict if any item moved. Versions advance on success."""
        ...

    def mark_seen(self, source: SourceRecord, mark: str) -> None:
        """Note that a full-replacement file held this record unchanged: its seen mark, unless
        the record carries a newer one already (marks never move back)."""
        ...


class ProviderPriorities(Protocol):
    def priority(self, provider: str) -> int: ...


class FlatPriorities:
    def priority(self, provider: str) -> int:
        return merge.DEFAULT_PRIORITY


def source_key(provider: str, source_id: str) -> str:
    return f"{provider}|{source_id}"


def split_key(key: str) -> tuple[str, str]:
    provider, _, source_id = key.partition("|")
    return provider, source_id


def new_id() -> str:
    """Time-ordered (harvesters see clusters in creation order) and unguessable."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def content_hash(record: Record) -> str:
    return hashlib.sha256(marc.canonical_json(record)).hexdigest()[:32]


def title_of(record: Record | None) -> str:
    return ((record.title if record is not None else "") or "").strip(" /:;,.=")


def saturated(entry: KeyEntry | None) -> bool:
    return entry is not None and len(entry.clusters) >= MAX_KEY_CLUSTERS


def ranked_candidates(entries: Iterable[KeyEntry]) -> list[str]:
    """The clusters a record is compared with: those sharing the most of its keys first (an
    identifier match is never crowded out), at most MAX_CANDIDATES; saturated keys say nothing."""
    shared = Counter(cid for e in entries if not saturated(e) for cid in e.clusters)
    return sorted(shared, key=lambda cid: (-shared[cid], cid))[:MAX_CANDIDATES]
