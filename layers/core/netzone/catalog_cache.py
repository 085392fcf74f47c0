"""The catalog store as one batch sees it: key items and clusters read once, then kept in step.

Records of one batch often share match keys and candidate clusters; `CachingCatalogStore`
reads each key item and cluster at most once for the batch (in batch reads), hands out copies,
and keeps what it holds current with the batch's own commits. A `VersionConflict` means
another writer moved something: `forget` and read again. Source records, review tasks and
seen marks go straight to the store.
"""

from __future__ import annotations

import copy

from netzone.catalog import CatalogStore, Cluster, Commit, KeyEntry, ReviewTask, SourceRecord


class CachingCatalogStore:
    """A `CatalogStore` over another one that caches key items and clusters for one batch."""

    def __init__(self, store: CatalogStore):
        self.store = store
        self.keys: dict[str, KeyEntry | None] = {}  # None: read, and not there
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
        return {k: copy.copy(entry) for k in keys if (entry := self.keys[k]) is not None}

    def get_clusters(self, cluster_ids: list[str]) -> dict[str, Cluster]:
        missing = [c for c in dict.fromkeys(cluster_ids) if c not in self.clusters]
        if missing:
            found = self.store.get_clusters(missing)
            self.clusters.update({c: found.get(c) for c in missing})
        return {c: copy.copy(cluster) for c in cluster_ids if (cluster := self.clusters[c]) is not None}

    def commit(self, change: Commit) -> None:
        self.store.commit(change)
        self.keys.update({entry.key: copy.copy(entry) for entry, _ in change.keys})
        self.clusters.update({cluster.cluster_id: copy.copy(cluster) for cluster, _ in change.clusters})

    def forget(self) -> None:
        """Drop what was read: another writer changed something this batch read."""
        self.keys.clear()
        self.clusters.clear()
