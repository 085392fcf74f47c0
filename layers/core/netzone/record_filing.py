"""Filing source records into clusters: one network record per manifestation.

For each record of a batch: find candidate clusters through its match keys (key items map a
key to cluster ids), compare it with the members of each candidate (`netzone.matching`), then

- exactly one cluster matches, nothing else is uncertain: **merge** into it;
- several clusters match, or a comparison is uncertain: the record gets a cluster of its own
  and a **review** task lists the candidates, with the evidence, for a cataloger;
- nothing matches: **create** a cluster.

The network record is recomputed from the cluster's sources (`netzone.merge`). Every write
of a record — source, cluster(s), key items, review task — is one transaction conditional on
the versions read (`netzone.cluster_writer`), so concurrent workers never create two clusters
for one manifestation (they claim the same key item; the loser re-reads and merges) and never
lose an update. A batch reads key items and clusters through a cache of its own
(`netzone.catalog_cache`). A redelivered batch finds each record's last job and position on
its source record and reports the outcome it had, without writing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial

from pymarc import Record

from netzone import marc, matching, normalize
from netzone.batches import RecordBatch, latest_mark, newer_mark
from netzone.catalog import (
    CatalogStore,
    Cluster,
    FlatPriorities,
    KeyEntry,
    ProviderPriorities,
    ReviewTask,
    SourceRecord,
    content_hash,
    new_id,
    ranked_candidates,
    source_key,
    title_of,
)
from netzone.catalog_cache import CachingCatalogStore
from netzone.clock import now
from netzone.cluster_writer import ClusterWriter
from netzone.jobs import FiledRecord, Outcome, Reject
from netzone.retry import retry_on_conflict

Filed = tuple[Outcome, str | None, str | None]  # the outcome, the record's cluster, its review task


@dataclass
class BatchResult:
    counts: Counter = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    filed: list[FiledRecord] = field(default_factory=list)  # per record, in batch order

    def add(self, position: int, source_id: str, filed: Filed) -> None:
        outcome, cluster_id, task_id = filed
        if outcome == "rejected":
            reason = "deletion of a record the network does not hold"
            self.rejects.append(Reject(position=position, source_id=source_id, reason=reason))
        self.counts[outcome] += 1
        self.filed.append(
            FiledRecord(
                position=position,
                source_id=source_id,
                outcome=outcome,
                network_record=cluster_id,
                review_task=task_id,
            )
        )
        if cluster_id:
            self.clusters.append(cluster_id)
        if task_id:
            self.tasks.append(task_id)


def is_deletion(record: Record) -> bool:
    return str(record.leader)[5] == "d"


@dataclass
class Filer:
    """Files batches of source records into clusters, a record at a time (retried when it loses
    a race), and withdraws single records outside a batch."""

    store: CatalogStore
    priorities: ProviderPriorities = field(default_factory=FlatPriorities)
    retries: int = 6

    def file_batch(self, batch: RecordBatch) -> BatchResult:
        """File every record of a batch; the outcome counts sum to the batch size."""
        result = BatchResult()
        keys = list(dict.fromkeys((batch.provider, r.source_id) for r in batch.records))
        known = self.store.get_sources(keys)
        records = {item.position: marc.marc_json_to_record(item.marc) for item in batch.records}
        cache = CachingCatalogStore(self.store)
        # New records' match profiles, derived once: they give the keys to prefetch and the comparisons.
        profiles = {
            item.position: matching.profile(records[item.position])
            for item in batch.records
            if source_key(batch.provider, item.source_id) not in known
            and not is_deletion(records[item.position])
        }
        _prefetch(profiles, cache)
        filing = _BatchFiling(batch, cache, ClusterWriter(cache, self.priorities), known)

        def reread(source_id: str) -> None:  # what another writer changed
            cache.forget()
            known.update(self.store.get_sources([(batch.provider, source_id)]))

        for item in batch.records:
            file_one = partial(
                filing.file_one,
                item.position,
                item.source_id,
                records[item.position],
                profiles.get(item.position),
            )
            filed = retry_on_conflict(file_one, self.retries, before_retry=partial(reread, item.source_id))
            result.add(item.position, item.source_id, filed)
        return result

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
        writer = ClusterWriter(self.store, self.priorities)

        def withdraw() -> bool:
            existing = self.store.get_sources([(provider, source_id)]).get(key)
            if existing is None:
                return False
            if existing.withdrawn:
                return existing.last_job == job_id and existing.last_position == position
            if unless_seen and (
                not newer_mark(existing.seen_mark, unless_seen) or existing.last_job == job_id
            ):
                return False
            writer.withdraw(existing, job_id, position)
            return True

        return retry_on_conflict(withdraw, self.retries)


def _prefetch(profiles: dict[int, matching.Profile], store: CachingCatalogStore) -> None:
    """Read the key items and candidate clusters of the batch's new records in a few batch reads.

    Only each record's own candidates are read: every cluster of every key would be up to
    MAX_KEY_CLUSTERS per key, most of them never compared."""
    keys_of = [matching.match_keys(profile) for profile in profiles.values()]
    entries = store.get_keys(list(dict.fromkeys(key for keys in keys_of for key in keys)))
    wanted = {c for keys in keys_of for c in ranked_candidates(entries[k] for k in keys if k in entries)}
    store.get_clusters(sorted(wanted))


@dataclass
class _BatchFiling:
    """One batch being filed: what the catalog held of its records (`known`, kept current as
    they are filed), and the batch's cached store and the writer over it."""

    batch: RecordBatch
    store: CachingCatalogStore
    writer: ClusterWriter
    known: dict[str, SourceRecord]

    def file_one(
        self, position: int, source_id: str, record: Record, profile: matching.Profile | None = None
    ) -> Filed:
        batch = self.batch
        key = source_key(batch.provider, source_id)
        existing = self.known.get(key)
        if existing and existing.last_job == batch.job_id and existing.last_position == position:
            # Redelivered: every write by a job sets the outcome it reports here.
            return existing.last_outcome, existing.cluster_id, None  # type: ignore[return-value]
        if is_deletion(record):
            return self._delete(existing, position)
        digest = content_hash(record)
        if existing is not None and existing.content_hash == digest and not existing.withdrawn:
            if batch.feed_mode == "full" and newer_mark(existing.seen_mark, batch.seen_mark):
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
            seen_mark=latest_mark(existing.seen_mark if existing else None, batch.seen_mark),
            brief=batch.brief,
        )
        if existing is not None and not existing.withdrawn:
            # A new version of a record we hold stays in its cluster, which is recomputed.
            source.last_outcome = "merged"
            self.writer.update_in_place(source, existing)
            self.known[key] = source
            return "merged", source.cluster_id, None
        filed = self._place(source, existing, profile)
        self.known[key] = source
        return filed

    def _delete(self, existing: SourceRecord | None, position: int) -> Filed:
        if existing is None:
            return "rejected", None, None
        if existing.withdrawn:
            return "unchanged", existing.cluster_id, None
        self.writer.withdraw(existing, self.batch.job_id, position)
        return "withdrawn", existing.cluster_id, None

    def _place(self, source: SourceRecord, existing: SourceRecord | None, profile: matching.Profile) -> Filed:
        """A record the network does not hold (or holds withdrawn): merged into the one cluster
        it matches, or given its own, with a review task when matching is not sure."""
        candidates, entries, clusters = self._candidates(source, profile)
        matches = [c for c in candidates if c["decision"] == "match"]
        uncertain = [c for c in candidates if c["decision"] == "review"]
        if len(matches) == 1 and not uncertain:
            source.last_outcome = "merged"
            self.writer.join(source, existing, clusters[matches[0]["cluster_id"]], entries)
            return "merged", source.cluster_id, None
        if not (candidates and (matches or uncertain)):
            source.last_outcome = "created"
            self.writer.create(source, existing, None, entries)
            return "created", source.cluster_id, None
        source.last_outcome = "review"
        task = ReviewTask(
            task_id=new_id(),
            source=source.key,
            cluster_id="",
            candidates=matches + uncertain,
            created_at=now(),
        )
        self.writer.create(source, existing, task, entries)
        return "review", source.cluster_id, task.task_id

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


def file_batch(
    batch: RecordBatch, store: CatalogStore, priorities: ProviderPriorities | None = None
) -> BatchResult:
    return Filer(store, priorities or FlatPriorities()).file_batch(batch)
