"""Catalogers' decisions on clusters: the review queue, merge on accept, keep apart, unmerge.

Matching asks rather than guesses (`netzone.catalog` files a review task when a record could
belong to several clusters or the evidence is uncertain). Here a central-office administrator
or a network cataloger answers:

- **accept** a task: the record's cluster is folded into the chosen candidate; the folded
  cluster becomes a pointer (`status "merged"`, `merged_into`) so links to it keep working,
  and its electronic portfolios move to the chosen cluster;
- **reject** a task: the record is kept apart from every source of the candidates, and the
  same pair is never asked again;
- **split** a source record out of a cluster (unmerge): it gets a cluster of its own, both
  network records are recomputed from their sources, match keys move, and the pair is kept
  apart from then on; a brief record made from KBART rows takes its portfolios along.

Every decision is audited (who, when, why, before and after) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from netzone import access
from netzone.access import Principal
from netzone.catalog import (
    CatalogStore,
    Cluster,
    Commit,
    FlatPriorities,
    ProviderPriorities,
    ReviewTask,
    SourceRecord,
    new_id,
    split_key,
)
from netzone.clock import audit_id, now
from netzone.cluster_writer import recompute
from netzone.errors import Conflict, Invalid, NotFound, VersionConflict
from netzone.portfolio_filing import PortfolioStore, move_portfolios

REVIEWERS = ("cataloger",)  # and central-office administrators, who may do everything


class ReviewStore(CatalogStore, Protocol):
    """The catalog as curators read it: the store, with the review queue and the decisions kept."""

    def list_tasks(
        self, status: str, limit: int, after: str | None
    ) -> tuple[list[ReviewTask], str | None]: ...

    def cluster_audit(
        self, cluster_id: str, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]: ...


@dataclass
class Curator:
    """Catalogers' decisions on the shared catalog: the review queue read, a task accepted or
    rejected, a source record split out of its cluster, each audited in the transaction that makes it."""

    store: ReviewStore
    priorities: ProviderPriorities = field(default_factory=FlatPriorities)
    # Electronic portfolios follow a folded cluster to the one it was folded into.
    portfolios: PortfolioStore | None = None

    def authorize(self, principal: Principal) -> None:
        # The shared catalog is the network's: only network-scoped catalogers decide on it.
        access.authorize(principal, REVIEWERS, member=None)

    # -- reading
    def task(self, principal: Principal, task_id: str) -> ReviewTask:
        self.authorize(principal)
        task = self.store.get_task(task_id)
        if task is None:
            raise NotFound("review-not-found", f"no review task {task_id}")
        return task

    def cluster(self, principal: Principal, cluster_id: str) -> Cluster:
        self.authorize(principal)
        cluster = self.store.get_clusters([cluster_id]).get(cluster_id)
        if cluster is None:
            raise NotFound("cluster-not-found", f"no cluster {cluster_id}")
        return cluster

    def tasks(
        self, principal: Principal, status: str, limit: int, after: str | None
    ) -> tuple[list[ReviewTask], str | None]:
        """A page of the review queue by status, oldest first, and where the next page starts."""
        self.authorize(principal)
        return self.store.list_tasks(status, limit, after)

    def decisions(
        self, principal: Principal, cluster_id: str, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        """A page of the decisions about a cluster (accept, reject, split), newest first."""
        self.authorize(principal)
        return self.store.cluster_audit(cluster_id, limit, after)

    # -- decisions
    def accept(self, principal: Principal, task_id: str, cluster_id: str, reason: str) -> ReviewTask:
        task = self._open_task(principal, task_id)
        if cluster_id not in {c["cluster_id"] for c in task.candidates}:
            choices = ", ".join(c["cluster_id"] for c in task.candidates)
            raise Invalid("not-a-candidate", f"choose one of this task's candidates: {choices}")
        clusters = self.store.get_clusters([task.cluster_id, cluster_id])
        folded, target = clusters.get(task.cluster_id), clusters.get(cluster_id)
        if target is None or target.status != "active":
            raise Conflict("cluster-gone", f"cluster {cluster_id} is no longer active; reject and re-file")
        if folded is None or folded.status != "active":
            raise Conflict("cluster-gone", f"the record's cluster {task.cluster_id} changed; reload the task")
        members = self.store.get_sources([split_key(k) for k in {*target.sources, *folded.sources}])
        moving = [members[k] for k in folded.sources if k in members]
        versions = {"target": target.version, "folded": folded.version}
        before = {"target": _summary(target), "folded": _summary(folded)}
        for source in moving:
            source.cluster_id = target.cluster_id
        target.sources = sorted({*target.sources, *folded.sources})
        recompute(target, {k: members[k] for k in target.sources if k in members}, self.priorities)
        folded.status, folded.merged_into, folded.sources = "merged", target.cluster_id, []
        folded.keys, folded.profiles, folded.datestamp = [], {}, now()

        change = Commit(
            sources=[(s, s.version) for s in moving],
            clusters=[(target, versions["target"]), (folded, versions["folded"])],
        )
        moved_keys = sorted({k for s in moving for k in s.keys})
        change.keys = self._retarget_keys(moved_keys, folded.cluster_id, target.cluster_id)
        self._decide(task, principal, "accepted", {"cluster_id": cluster_id, "reason": reason}, change)
        change.audit.append(
            _audit(principal, "review-accept", "cluster", target.cluster_id, reason, before, _summary(target))
        )
        self._commit(change)
        if self.portfolios is not None:
            move_portfolios(self.portfolios, folded.cluster_id, target.cluster_id)
        return task

    def reject(self, principal: Principal, task_id: str, reason: str) -> ReviewTask:
        task = self._open_task(principal, task_id)
        provider, source_id = split_key(task.source)
        source = self.store.get_sources([(provider, source_id)]).get(task.source)
        if source is None:
            raise Conflict("source-gone", f"source record {task.source} is gone; the task is void")
        clusters = self.store.get_clusters([c["cluster_id"] for c in task.candidates])
        apart = sorted({*source.apart, *(k for c in clusters.values() for k in c.sources)})
        read_version = source.version
        source.apart = apart
        change = Commit(sources=[(source, read_version)])
        self._decide(task, principal, "rejected", {"reason": reason, "kept_apart_from": apart}, change)
        change.audit.append(
            _audit(
                principal,
                "review-reject",
                "cluster",
                task.cluster_id,
                reason,
                None,
                {"kept_apart_from": apart},
            )
        )
        self._commit(change)
        return task

    def split(
        self, principal: Principal, cluster_id: str, source: str, reason: str
    ) -> tuple[Cluster, Cluster]:
        """Unmerge: take `source` ("provider|id") out of a cluster into a new cluster of its own."""
        self.authorize(principal)
        cluster = self.cluster(principal, cluster_id)
        if source not in cluster.sources:
            raise Invalid(
                "not-a-member", f"{source} is not a source of cluster {cluster_id}: {cluster.sources}"
            )
        if len(cluster.sources) < 2:
            raise Invalid("single-source", "a cluster with one source record cannot be split")
        members = self.store.get_sources([split_key(k) for k in cluster.sources])
        leaving = members[source]
        staying = {k: s for k, s in members.items() if k != source}
        before = _summary(cluster)
        read = {"cluster": cluster.version, "leaving": leaving.version}

        fresh = Cluster(cluster_id=new_id(), record=None, sources=[source], title="")
        leaving.cluster_id = fresh.cluster_id
        leaving.apart = sorted({*leaving.apart, *staying})
        recompute(fresh, {source: leaving}, self.priorities)
        cluster.sources = sorted(staying)
        recompute(cluster, staying, self.priorities)

        change = Commit(
            sources=[(leaving, read["leaving"])], clusters=[(cluster, read["cluster"]), (fresh, None)]
        )
        still_held = set(cluster.keys)
        entries = self.store.get_keys(sorted(set(leaving.keys)))
        for key in sorted(set(leaving.keys)):
            entry = entries.get(key)
            if entry is None:
                continue
            clusters = set(entry.clusters) | {fresh.cluster_id}
            if key not in still_held:
                clusters.discard(cluster_id)
            read_version = entry.version
            entry.clusters = sorted(clusters)
            change.keys.append((entry, read_version))
        change.audit.append(
            _audit(
                principal,
                "split",
                "cluster",
                cluster_id,
                reason,
                before,
                {"stays": _summary(cluster), "new": _summary(fresh)},
            )
        )
        self._commit(change)
        if self.portfolios is not None:  # a brief record split out takes the rows that made it
            move_portfolios(self.portfolios, cluster_id, fresh.cluster_id, brief_source=source)
        return cluster, fresh

    # -- plumbing
    def _open_task(self, principal: Principal, task_id: str) -> ReviewTask:
        task = self.task(principal, task_id)
        if task.status != "open":
            raise Conflict("already-decided", f"task {task_id} was {task.status} by {task.decided_by}")
        return task

    def _decide(
        self, task: ReviewTask, principal: Principal, status: str, decision: dict, change: Commit
    ) -> None:
        read_version = task.version
        task.status, task.decided_by, task.decided_at, task.decision = (
            status,
            principal.username,
            now(),
            decision,
        )
        change.tasks.append((task, read_version))

    def _retarget_keys(self, keys: list[str], old: str, new: str):
        entries = self.store.get_keys(keys)
        changes = []
        for key in keys:
            entry = entries.get(key)
            if entry is None:
                continue
            read_version = entry.version
            entry.clusters = sorted((set(entry.clusters) - {old}) | {new})
            changes.append((entry, read_version))
        return changes

    def _commit(self, change: Commit) -> None:
        try:
            self.store.commit(change)
        except VersionConflict as conflict:
            raise Conflict(
                "changed-meanwhile", "the cluster changed while you decided; reload and decide again"
            ) from conflict


def _summary(cluster: Cluster) -> dict:
    return {
        "cluster_id": cluster.cluster_id,
        "status": cluster.status,
        "sources": list(cluster.sources),
        "title": cluster.title,
    }


def _audit(
    principal: Principal, action: str, object_type: str, object_id: str, reason: str, before, after
) -> dict:
    stamp = now()
    return {
        "id": audit_id(),
        "at": stamp,
        "actor": principal.username,
        "actor_member": principal.member,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "before": before,
        "after": after,
    }


def source_view(source: SourceRecord) -> dict:
    return {
        "source": source.key,
        "provider": source.provider,
        "source_id": source.source_id,
        "title": source.title,
        "identifiers": source.identifiers,
        "withdrawn": source.withdrawn,
        "updated_at": source.updated_at,
    }
