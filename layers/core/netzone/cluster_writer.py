"""Writing one source record's change to the catalog: the record, its cluster(s), its key items.

A record starts a cluster (`create`), joins one (`join`), changes in place (`update_in_place`)
or leaves (`withdraw`); each is one `Commit` conditional on the versions read, so a lost race
is a `VersionConflict` for the caller to retry. The cluster's network record is recomputed
from its live sources (`recompute`), and the key items follow the cluster's keys: claimed for
the cluster, released when no source of it holds the key any more, never grown past
`catalog.MAX_KEY_CLUSTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netzone import merge
from netzone.catalog import (
    CatalogStore,
    Cluster,
    Commit,
    FlatPriorities,
    KeyEntry,
    ProviderPriorities,
    ReviewTask,
    SourceRecord,
    new_id,
    saturated,
    split_key,
    title_of,
)
from netzone.clock import now
from netzone.errors import VersionConflict


def recompute(cluster: Cluster, members: dict[str, SourceRecord], priorities: ProviderPriorities) -> None:
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
            merge.Source(s.provider, s.source_id, s.record, priorities.priority(s.provider))
            for s in live.values()
        ],
    )
    cluster.status = "active"
    cluster.record = result.record
    cluster.title = title_of(result.record)
    cluster.provenance = result.provenance
    cluster.keys = sorted({k for s in live.values() for k in s.keys})
    cluster.profiles = {k: s.profile for k, s in sorted(live.items())}


@dataclass
class ClusterWriter:
    """Writes a source record into the clusters, one transaction per change (`CatalogStore.commit`)."""

    store: CatalogStore
    priorities: ProviderPriorities = field(default_factory=FlatPriorities)

    def create(
        self,
        source: SourceRecord,
        existing: SourceRecord | None,
        task: ReviewTask | None,
        entries: dict[str, KeyEntry | None],
    ) -> None:
        """A cluster of the record's own (and the review task that asks about it, if any)."""
        cluster_id = new_id()
        source.cluster_id = cluster_id
        cluster = Cluster(cluster_id=cluster_id, record=None, sources=[source.key], title="")
        recompute(cluster, {source.key: source}, self.priorities)
        change = Commit(
            sources=[(source, existing.version if existing else None)], clusters=[(cluster, None)]
        )
        change.keys = self._key_changes(cluster_id, add=source.keys, remove=[], entries=entries)
        if task is not None:
            task.cluster_id = cluster_id
            change.tasks.append((task, None))
        self.store.commit(change)

    def join(
        self,
        source: SourceRecord,
        existing: SourceRecord | None,
        cluster: Cluster,
        entries: dict[str, KeyEntry | None],
    ) -> None:
        """The record merged into the cluster it matches."""
        cluster_id = cluster.cluster_id
        members = self.store.get_sources([split_key(k) for k in cluster.sources])
        members[source.key] = source
        source.cluster_id = cluster_id
        read_version = cluster.version
        cluster.sources = sorted(members)
        recompute(cluster, members, self.priorities)
        change = Commit(
            sources=[(source, existing.version if existing else None)], clusters=[(cluster, read_version)]
        )
        change.keys = self._key_changes(cluster_id, add=source.keys, remove=[], entries=entries)
        self.store.commit(change)

    def update_in_place(self, source: SourceRecord, existing: SourceRecord) -> None:
        """A new version of a record the network holds: it stays in its cluster, which is recomputed."""
        cluster = self._cluster(existing.cluster_id)
        members = self.store.get_sources([split_key(k) for k in cluster.sources if k != source.key])
        members[source.key] = source
        read_version = cluster.version
        recompute(cluster, members, self.priorities)
        change = Commit(sources=[(source, existing.version)], clusters=[(cluster, read_version)])
        dropped = [k for k in existing.keys if k not in cluster.keys]
        change.keys = self._key_changes(cluster.cluster_id, add=source.keys, remove=dropped)
        self.store.commit(change)

    def withdraw(self, existing: SourceRecord, job_id: str, position: int) -> None:
        """The record withdrawn by `job_id`: its cluster is recomputed without it (a tombstone
        when no source is left)."""
        cluster = self._cluster(existing.cluster_id)
        read_version = cluster.version
        existing.withdrawn = True
        existing.last_job, existing.last_position, existing.last_outcome = job_id, position, "withdrawn"
        existing.updated_at = now()
        members = self.store.get_sources([split_key(k) for k in cluster.sources if k != existing.key])
        cluster.sources = sorted(members)
        recompute(cluster, members, self.priorities)
        change = Commit(sources=[(existing, existing.version)], clusters=[(cluster, read_version)])
        dropped = [k for k in existing.keys if k not in cluster.keys]
        change.keys = self._key_changes(cluster.cluster_id, add=[], remove=dropped)
        self.store.commit(change)

    def _cluster(self, cluster_id: str) -> Cluster:
        found = self.store.get_clusters([cluster_id]).get(cluster_id)
        if found is None:
            raise VersionConflict(f"cluster {cluster_id} is not there (yet)")
        return found

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
