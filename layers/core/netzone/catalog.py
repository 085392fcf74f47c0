"""Filing source records into clusters: one network record per manifestation.

For each record of a batch: find candidate clusters through its match keys (key items map a
key to cluster ids), compare it with the members of each candidate (`netzone.matching`), then

- exactly one cluster matches, nothing else is uncertain: **merge** into it;
- several clusters match, or a comparison is uncertain: the record gets a cluster of its own
  and a **review** task lists the candidates, with the evidence, for a cataloger;
- nothing matches: **create** a cluster.

The network record is recomputed from the cluster's sources (`netzone.merge`). Every write
of a record — source, cluster(s), key items, review task — is one transaction conditional on
the versions read (`CatalogStore.commit`), so concurrent workers never create two clusters for
one manifestation (they claim the same key item; the loser re-reads and merges) and never lose
an update. A redelivered batch finds each record's last job and position on its source record
and reports the outcome it had, without writing.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymarc import Record

from netzone import marc, matching, merge, normalize
from netzone.feeds import Outcome, RecordBatch, Reject, latest_mark, newer_mark, now

MAX_CANDIDATES = 20  # clusters compared per record; more means the keys are too broad
# A match key held by this many clusters says nothing about identity (a common title and
# author): it stops growing and is not used to find candidates. Without the cap a key item
# would grow with the catalog, cost a rewrite of its whole list per record, and pass
# DynamoDB's 400 KB item limit on a large network.
MAX_KEY_CLUSTERS = 100


def saturated(entry: KeyEntry | None) -> bool:
    return entry is not None and len(entry.clusters) >= MAX_KEY_CLUSTERS


def ranked_candidates(entries: Iterable[KeyEntry]) -> list[str]:
    """The clusters a record is compared with: those sharing the most of its keys first (an
    identifier match is never crowded out), at most MAX_CANDIDATES; saturated keys say nothing."""
    shared = Counter(cid for e in entries if not saturated(e) for cid in e.clusters)
    return sorted(shared, key=lambda cid: (-shared[cid], cid))[:MAX_CANDIDATES]


class VersionConflict(Exception):
    """Another writer changed an item first; re-read and try again."""


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
    last_outcome: str | None = None
    updated_at: str | None = None
    # The seen mark of the newest file that held this record (a full-replacement feed
    # withdraws the rest; feeds.seen_mark).
    seen_job: str | None = None
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


@dataclass
class BatchResult:
    counts: Counter = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    # Per record, in batch order: position, source_id, outcome, network_record, review_task.
    filed: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- filing a batch


class _BatchView:
    """The store as one batch sees it: key items and clusters read once, in batches, and kept
    current by the batch's own commits (a conflict means someone else wrote: `forget` and re-read)."""

    def __init__(self, store: CatalogStore):
        self.store = store
        self.keys: dict[str, KeyEntry | None] = {}
        self.clusters: dict[str, Cluster | None] = {}

    def get_sources(self, keys: list[tuple[str, str]]) -> dict[str, SourceRecord]:
        return self.store.get_sources(keys)

    def get_task(self, task_id: str) -> ReviewTask | None:
        return self.store.get_task(task_id)

    def mark_seen(self, source: SourceRecord, mark: str) -> None:
        self.store.mark_seen(source, mark)

    def get_keys(self, keys: list[str]) -> dict[str, KeyEntry]:
        missing = [k for k in dict.fromkeys(keys) if k not in self.keys]
        if missing:
            found = self.store.get_keys(missing)
            self.keys.update({k: found.get(k) for k in missing})
        return {k: copy.copy(e) for k in keys if (e := self.keys[k]) is not None}

    def get_clusters(self, cluster_ids: list[str]) -> dict[str, Cluster]:
        missing = [c for c in dict.fromkeys(cluster_ids) if c not in self.clusters]
        if missing:
            found = self.store.get_clusters(missing)
            self.clusters.update({c: found.get(c) for c in missing})
        return {c: copy.copy(found) for c in cluster_ids if (found := self.clusters[c]) is not None}

    def commit(self, change: Commit) -> None:
        self.store.commit(change)
        self.keys.update({entry.key: copy.copy(entry) for entry, _ in change.keys})
        self.clusters.update({cluster.cluster_id: copy.copy(cluster) for cluster, _ in change.clusters})

    def forget(self) -> None:
        self.keys.clear()
        self.clusters.clear()


@dataclass
class Filer:
    store: CatalogStore
    priorities: ProviderPriorities = field(default_factory=FlatPriorities)
    retries: int = 6

    def file_batch(self, batch: RecordBatch) -> BatchResult:
        """File every record of a batch; the outcome counts sum to the batch size."""
        result = BatchResult()
        keys = list(dict.fromkeys((batch.provider, r.source_id) for r in batch.records))
        known = self.store.get_sources(keys)
        records = {item.position: marc.marc_json_to_record(item.marc) for item in batch.records}
        view = _BatchView(self.store)
        # New records' match profiles, derived once: they give the keys to prefetch and the comparisons.
        profiles = {
            item.position: matching.profile(records[item.position])
            for item in batch.records
            if source_key(batch.provider, item.source_id) not in known
            and str(records[item.position].leader)[5] != "d"
        }
        self._prefetch(profiles, view)
        filer = Filer(view, self.priorities, self.retries)  # type: ignore[arg-type]
        for item in batch.records:
            for attempt in range(self.retries):
                try:
                    outcome, cluster_id, task_id = filer._file_one(
                        batch,
                        item.position,
                        item.source_id,
                        records[item.position],
                        known,
                        profiles.get(item.position),
                    )
                    break
                except VersionConflict:
                    if attempt == self.retries - 1:
                        raise
                    time.sleep(0.01 * 2**attempt)
                    view.forget()
                    known.update(self.store.get_sources([(batch.provider, item.source_id)]))
            if outcome == "rejected":
                reason = "deletion of a record the network does not hold"
                result.rejects.append(Reject(position=item.position, source_id=item.source_id, reason=reason))
            result.counts[outcome] += 1
            result.filed.append(
                {
                    "position": item.position,
                    "source_id": item.source_id,
                    "outcome": outcome,
                    "network_record": cluster_id,
                    "review_task": task_id,
                }
            )
            if cluster_id:
                result.clusters.append(cluster_id)
            if task_id:
                result.tasks.append(task_id)
        return result

    def _prefetch(self, profiles: dict[int, matching.Profile], view: _BatchView) -> None:
        """Read the key items and candidate clusters of the batch's new records in a few batch reads.

        Only each record's own candidates are read: every cluster of every key would be up to
        MAX_KEY_CLUSTERS per key, most of them never compared."""
        keys_of = [matching.match_keys(profile) for profile in profiles.values()]
        entries = view.get_keys(list(dict.fromkeys(key for keys in keys_of for key in keys)))
        wanted = {c for keys in keys_of for c in ranked_candidates(entries[k] for k in keys if k in entries)}
        view.get_clusters(sorted(wanted))

    def _file_one(
        self,
        batch: RecordBatch,
        position: int,
        source_id: str,
        record: Record,
        known: dict[str, SourceRecord],
        profile: matching.Profile | None = None,
    ) -> tuple[Outcome, str | None, str | None]:
        key = source_key(batch.provider, source_id)
        existing = known.get(key)
        if existing and existing.last_job == batch.job_id and existing.last_position == position:
            return existing.last_outcome, existing.cluster_id, None  # type: ignore[return-value]
        if str(record.leader)[5] == "d":
            if existing is None:
                return "rejected", None, None
            if existing.withdrawn:
                return "unchanged", existing.cluster_id, None
            self._withdraw(existing, batch.job_id, position)
            return "withdrawn", existing.cluster_id, None
        digest = content_hash(record)
        if existing is not None and existing.content_hash == digest and not existing.withdrawn:
            if batch.feed_mode == "full" and newer_mark(existing.seen_job, batch.seen_mark):
                self.store.mark_seen(existing, batch.seen_mark)
            return "unchanged", existing.cluster_id, None

        profile = profile or matching.profile(record)
        source = SourceRecord(
            provider=batch.provider,
            source_id=source_id,
            cluster_id=existing.cluster_id if existing else "",
            content_hash=digest,
            record=record,
            identifiers=normalize.identifiers(record),
            title=title_of(record),
            profile=profile.to_dict(),
            keys=matching.match_keys(profile),
            apart=existing.apart if existing else [],
            version=existing.version if existing else 0,
            last_job=batch.job_id,
            last_position=position,
            updated_at=now(),
            # A mark never moves back: an older file re-sending the record keeps the newer mark.
            seen_job=latest_mark(existing.seen_job if existing else None, batch.seen_mark),
            brief=batch.brief,
        )
        if existing is not None and not existing.withdrawn:
            # A new version of a record we hold stays in its cluster, which is recomputed.
            source.last_outcome = "merged"
            self._update_in_place(source, existing)
            known[key] = source
            return "merged", source.cluster_id, None

        candidates, entries, clusters = self._candidates(source, profile)
        matches = [c for c in candidates if c["decision"] == "match"]
        uncertain = [c for c in candidates if c["decision"] == "review"]
        task_id = None
        if len(matches) == 1 and not uncertain:
            source.last_outcome = "merged"
            self._join(source, existing, clusters[matches[0]["cluster_id"]], entries)
        else:
            source.last_outcome = "review" if candidates and (matches or uncertain) else "created"
            task = None
            if source.last_outcome == "review":
                task = ReviewTask(
                    task_id=new_id(),
                    source=key,
                    cluster_id="",
                    candidates=matches + uncertain,
                    created_at=now(),
                )
                task_id = task.task_id
            self._create(source, existing, task, entries)
        known[key] = source
        return source.last_outcome, source.cluster_id, task_id  # type: ignore[return-value]

    # -- candidates
    def _candidates(
        self, source: SourceRecord, profile: matching.Profile
    ) -> tuple[list[dict], dict[str, KeyEntry | None], dict[str, Cluster]]:
        """Clusters sharing a match key with the record, compared member by member, best first."""
        found_keys = self.store.get_keys(source.keys)
        entries = {k: found_keys.get(k) for k in source.keys}  # None: nobody holds the key yet
        cluster_ids = ranked_candidates(found_keys.values())
        clusters = self.store.get_clusters(cluster_ids) if cluster_ids else {}
        found = []
        for cluster in clusters.values():
            if cluster.status != "active":
                continue
            comparisons = [
                (matching.compare_profiles(profile, matching.Profile.from_dict(p)), member)
                for member, p in cluster.profiles.items()
                if member not in source.apart and member != source.key
            ]
            if not comparisons or len(comparisons) < len(cluster.profiles) - (source.key in cluster.profiles):
                continue  # kept apart from a member of this cluster: never merge, never ask again
            best, member = max(comparisons, key=lambda pair: pair[0].score)
            if best.decision == "distinct":
                continue
            found.append(
                {"cluster_id": cluster.cluster_id, "title": cluster.title, "member": member} | best.to_dict()
            )
        return sorted(found, key=lambda c: (-c["score"], c["cluster_id"])), entries, clusters

    # -- writes
    def _create(
        self,
        source: SourceRecord,
        existing: SourceRecord | None,
        task: ReviewTask | None,
        entries: dict[str, KeyEntry | None],
    ) -> None:
        cluster_id = new_id()
        source.cluster_id = cluster_id
        cluster = Cluster(cluster_id=cluster_id, record=None, sources=[source.key], title="")
        self.recompute(cluster, {source.key: source})
        change = Commit(
            sources=[(source, existing.version if existing else None)], clusters=[(cluster, None)]
        )
        change.keys = self._key_changes(cluster_id, add=source.keys, remove=[], entries=entries)
        if task is not None:
            task.cluster_id = cluster_id
            change.tasks.append((task, None))
        self.store.commit(change)

    def _join(
        self,
        source: SourceRecord,
        existing: SourceRecord | None,
        cluster: Cluster,
        entries: dict[str, KeyEntry | None],
    ) -> None:
        cluster_id = cluster.cluster_id
        members = self.store.get_sources([split_key(k) for k in cluster.sources])
        members[source.key] = source
        source.cluster_id = cluster_id
        read_version = cluster.version
        cluster.sources = sorted(members)
        self.recompute(cluster, members)
        change = Commit(
            sources=[(source, existing.version if existing else None)], clusters=[(cluster, read_version)]
        )
        change.keys = self._key_changes(cluster_id, add=source.keys, remove=[], entries=entries)
        self.store.commit(change)

    def _cluster(self, cluster_id: str) -> Cluster:
        found = self.store.get_clusters([cluster_id]).get(cluster_id)
        if found is None:
            raise VersionConflict(f"cluster {cluster_id} is not there (yet)")
        return found

    def _update_in_place(self, source: SourceRecord, existing: SourceRecord) -> None:
        cluster = self._cluster(existing.cluster_id)
        members = self.store.get_sources([split_key(k) for k in cluster.sources if k != source.key])
        members[source.key] = source
        read_version = cluster.version
        self.recompute(cluster, members)
        change = Commit(sources=[(source, existing.version)], clusters=[(cluster, read_version)])
        dropped = [k for k in existing.keys if k not in cluster.keys]
        change.keys = self._key_changes(cluster.cluster_id, add=source.keys, remove=dropped)
        self.store.commit(change)

    def _withdraw(self, existing: SourceRecord, job_id: str, position: int) -> None:
        cluster = self._cluster(existing.cluster_id)
        read_version = cluster.version
        existing.withdrawn = True
        existing.last_job, existing.last_position, existing.last_outcome = job_id, position, "withdrawn"
        existing.updated_at = now()
        members = self.store.get_sources([split_key(k) for k in cluster.sources if k != existing.key])
        cluster.sources = sorted(members)
        self.recompute(cluster, members)
        change = Commit(sources=[(existing, existing.version)], clusters=[(cluster, read_version)])
        dropped = [k for k in existing.keys if k not in cluster.keys]
        change.keys = self._key_changes(cluster.cluster_id, add=[], remove=dropped)
        self.store.commit(change)

    def withdraw_source(
        self, provider: str, source_id: str, job_id: str, position: int = 0, unless_seen: str | None = None
    ) -> bool:
        """Withdraw one source record outside a feed batch (what a full-replacement file no longer
        holds; a withdrawn portfolio's brief record): its cluster is recomputed, and becomes a
        tombstone when no source is left.

        True when `job_id` withdrew it, now or on an earlier try of the same step (so a retried
        step counts it again, exactly once); False when the network does not hold the record or
        something else withdrew it. Position 0 (feed positions start at 1) keeps batch
        redelivery checks from mistaking it for a row. `unless_seen` (a file's seen mark): keep a
        record that file, or a newer one, holds (the sweep's index may lag behind the table, and
        a newer full file of the provider may be in flight).
        """
        key = source_key(provider, source_id)
        for attempt in range(self.retries):
            existing = self.store.get_sources([(provider, source_id)]).get(key)
            if existing is None:
                return False
            if existing.withdrawn:
                return existing.last_job == job_id and existing.last_position == position
            if unless_seen and (
                not newer_mark(existing.seen_job, unless_seen) or existing.last_job == job_id
            ):
                return False
            try:
                self._withdraw(existing, job_id, position)
                return True
            except VersionConflict:
                if attempt == self.retries - 1:
                    raise
                time.sleep(0.01 * 2**attempt)
        return False  # pragma: no cover - the loop returns or raises

    def recompute(self, cluster: Cluster, members: dict[str, SourceRecord]) -> None:
        """The cluster as a pure function of its member sources (a tombstone when none is left)."""
        live = {k: s for k, s in members.items() if not s.withdrawn}
        cluster.sources = sorted(live)
        cluster.datestamp = now()
        if not live:
            cluster.status, cluster.keys, cluster.profiles, cluster.provenance = "withdrawn", [], {}, []
            return
        result = merge.merge(
            cluster.cluster_id,
            [
                merge.Source(s.provider, s.source_id, s.record, self.priorities.priority(s.provider))
                for s in live.values()
            ],
        )
        cluster.status = "active"
        cluster.record = result.record
        cluster.title = title_of(result.record)
        cluster.provenance = result.provenance
        cluster.keys = sorted({k for s in live.values() for k in s.keys})
        cluster.profiles = {k: s.profile for k, s in sorted(live.items())}

    def _key_changes(
        self,
        cluster_id: str,
        add: list[str],
        remove: list[str],
        entries: dict[str, KeyEntry | None] | None = None,
    ) -> list[tuple[KeyEntry, int | None]]:
        """Claim (or release) key items for a cluster, each conditional on the version read."""
        wanted = sorted(set(add) | set(remove))
        entries = dict(entries or {})
        missing = [k for k in wanted if k not in entries]
        if missing:
            found = self.store.get_keys(missing)
            entries.update({k: found.get(k) for k in missing})
        changes = []
        for key in wanted:
            entry = entries.get(key)
            read_version = entry.version if entry else None
            clusters = set(entry.clusters) if entry else set()
            if key in add and cluster_id not in clusters and saturated(entry):
                continue  # too common to tell manifestations apart: it stops growing
            updated = (clusters | {cluster_id}) if key in add else (clusters - {cluster_id})
            if updated != clusters or entry is None:
                changes.append((KeyEntry(key, sorted(updated), read_version or 0), read_version))
        return changes


def file_batch(
    batch: RecordBatch, store: CatalogStore, priorities: ProviderPriorities | None = None
) -> BatchResult:
    return Filer(store, priorities or FlatPriorities()).file_batch(batch)
