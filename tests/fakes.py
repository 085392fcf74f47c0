"""In-memory fakes of the domain's ports, for unit tests (no AWS)."""

from __future__ import annotations

import copy

from netzone.batches import RecordBatch, newer_mark
from netzone.catalog import Cluster, Commit, KeyEntry, ReviewTask, SourceRecord
from netzone.errors import VersionConflict
from netzone.jobs import FeedJob, Reject
from netzone.network import ANY_OWNER, Ref
from netzone.providers import FeedProvider


class MemoryCatalog:
    """CatalogStore with the DynamoDB adapter's rules: all-or-nothing commits, checked versions."""

    def __init__(self):
        self.sources: dict[str, SourceRecord] = {}
        self.clusters: dict[str, Cluster] = {}
        self.keys: dict[str, KeyEntry] = {}
        self.tasks: dict[str, ReviewTask] = {}
        self.audit: list[dict] = []
        self.commits = 0
        self.reads = 0

    def get_sources(self, keys):
        self.reads += 1
        return {
            f"{p}|{s}": copy.deepcopy(self.sources[f"{p}|{s}"]) for p, s in keys if f"{p}|{s}" in self.sources
        }

    def get_clusters(self, cluster_ids):
        self.reads += 1
        return {c: copy.deepcopy(self.clusters[c]) for c in cluster_ids if c in self.clusters}

    def get_keys(self, keys):
        self.reads += 1
        return {k: copy.deepcopy(self.keys[k]) for k in keys if k in self.keys}

    def get_task(self, task_id):
        return copy.deepcopy(self.tasks.get(task_id))

    def commit(self, change: Commit) -> None:
        groups = [
            (self.sources, [(s.key, s, v) for s, v in change.sources]),
            (self.clusters, [(c.cluster_id, c, v) for c, v in change.clusters]),
            (self.keys, [(k.key, k, v) for k, v in change.keys]),
            (self.tasks, [(t.task_id, t, v) for t, v in change.tasks]),
        ]
        for table, items in groups:
            for key, _, expected in items:
                if not _version_holds(table.get(key), expected is None, expected):
                    raise VersionConflict(key)
        for table, items in groups:
            for key, item, expected in items:
                item.version = (expected or 0) + 1
                table[key] = copy.deepcopy(item)
        self.audit.extend(change.audit)
        self.commits += 1

    def mark_seen(self, source, mark):
        stored = self.sources[source.key]
        if not newer_mark(stored.seen_mark, mark):
            return  # marks never move back
        stored.seen_mark = source.seen_mark = mark
        stored.version += 1
        source.version += 1

    def unseen(self, provider, mark, after, limit, kind="source"):
        """The catalog index by feed provider, paged by source key like the DynamoDB index."""
        keys = sorted(
            k
            for k, s in self.sources.items()
            if s.provider == provider and not s.brief and (after is None or k > after)
        )
        page = keys[:limit]
        found = [
            ("source", self.sources[k].source_id) for k in page if newer_mark(self.sources[k].seen_mark, mark)
        ]
        return found, (page[-1] if len(keys) > limit else None)


def _version_holds(stored, new: bool, version: int) -> bool:
    return stored is None if new else stored is not None and stored.version == version


class ListSink:
    def __init__(self):
        self.batches: list[RecordBatch] = []

    def send(self, batch: RecordBatch) -> None:
        # Round-trip through the wire format, as SQS would (KBART rows travel as portfolio batches).
        from netzone.batches import PortfolioBatch

        model = PortfolioBatch if isinstance(batch, PortfolioBatch) else RecordBatch
        self.batches.append(model.model_validate_json(batch.to_message()))  # type: ignore[arg-type]


class MemoryProviders:
    """ProviderDirectory: the providers registered here, or every provider when `everyone`."""

    def __init__(self, *providers: FeedProvider, everyone: bool = False):
        self.providers = {p.code: p for p in providers}
        self.everyone = everyone

    def feed_provider(self, code: str) -> FeedProvider | None:
        return self.providers.get(code) or (FeedProvider(code=code) if self.everyone else None)

    def priority(self, provider: str) -> int:
        found = self.feed_provider(provider)
        return found.merge_priority if found else 50


class MemoryLedger:
    def __init__(self):
        self.jobs: dict[str, FeedJob] = {}
        self.rejects: dict[str, dict[int, Reject]] = {}
        self.finished: dict[str, tuple[int, int, str]] = {}
        self.failures: dict[str, str] = {}
        self.warnings: dict[str, dict] = {}
        self.warned: dict[str, int] = {}

    def start(self, job: FeedJob) -> str | None:
        if job.job_id not in self.jobs:
            self.jobs[job.job_id] = job
            return None
        if job.job_id in self.failures:
            return "failed"
        return "matching" if job.job_id in self.finished else "reading"

    def add_rejects(self, job_id, rejects):
        self.rejects.setdefault(job_id, {}).update({r.position: r for r in rejects})

    def add_warnings(self, job_id, warnings):
        self.warnings.setdefault(job_id, {}).update({w.position: w for w in warnings})

    def finish_reading(self, job_id, read):
        self.finished[job_id] = (read.records_read, read.rejected, read.format)
        self.warned[job_id] = read.warned

    def fail(self, job_id, reason):
        self.failures[job_id] = reason


class MemoryNetworkStore:
    """NetworkStore with the DynamoDB adapter's semantics: versioned writes, audit in the same step.

    Objects are held by their `Ref`; a list is in (owner, code) order, its position "owner#code"."""

    def __init__(self):
        self.items: dict[Ref, dict] = {}
        self.audit: dict[tuple[str, ...], list[dict]] = {}  # ("member", code or "-") or ("object", type, id)

    def get(self, ref):
        return copy.deepcopy(self.items.get(ref))

    def get_many(self, refs):
        return {r: copy.deepcopy(self.items[r]) for r in refs if r in self.items}

    def page(self, kind, owner, limit, after):
        listed = {
            f"{r.owner or '-'}#{r.code}": r
            for r in self.items
            if r.kind == kind and (owner is ANY_OWNER or r.owner == owner)
        }
        positions = sorted(p for p in listed if after is None or p > after)
        chunk = positions[:limit]
        items = [copy.deepcopy(self.items[listed[p]]) for p in chunk]
        return items, (chunk[-1] if len(positions) > limit else None)

    def write(self, ref, item, expected_version, audit):
        current = self.items.get(ref)
        if (current is None) != (expected_version is None) or (
            current and current["version"] != expected_version
        ):
            raise VersionConflict(str(ref), None if current is None else current["version"])
        self.items[ref] = copy.deepcopy(item)
        for scope in (("member", audit.member or "-"), ("object", audit.object_type, audit.object_id)):
            self.audit.setdefault(scope, []).append(audit.model_dump(mode="json"))

    def member_audit(self, member, limit, after):
        return self._audit_page(("member", member or "-"), limit, after)

    def object_audit(self, object_type, object_id, limit, after):
        return self._audit_page(("object", object_type, object_id), limit, after)

    def _audit_page(self, scope, limit, after):
        entries = sorted(self.audit.get(scope, []), key=lambda e: e["id"], reverse=True)
        if after:
            entries = [e for e in entries if e["id"] < after]
        chunk = entries[:limit]
        return chunk, (chunk[-1]["id"] if len(entries) > limit else None)


class MemoryStaffDirectory:
    """StaffDirectory with the user pool's rules: a username is global, a scope never changes."""

    def __init__(self):
        self.users: dict[str, object] = {}

    def lookup(self, username):
        from netzone.network import PoolUser

        user = self.users.get(username)
        return None if user is None else PoolUser(username=username, member=user.member)

    def create(self, user):
        from netzone.network import UsernameTaken

        if user.username in self.users:
            raise UsernameTaken(user.username)
        self.users[user.username] = user

    def update(self, user):
        assert self.users[user.username].member == user.member, "the pool never changes a user's scope"
        self.users[user.username] = user

    def delete(self, username):
        self.users.pop(username, None)


class MemoryPortfolios:
    """PortfolioStore with the DynamoDB adapter's rules: versioned saves, links kept with them."""

    def __init__(self):
        self.items: dict[str, object] = {}
        self.links: dict[str, dict[str, str]] = {}  # cluster id -> {portfolio key: portfolio key}
        self.saves = 0
        self.seen_updates = 0

    def get_portfolios(self, keys):
        return {
            f"{p}|{s}": copy.deepcopy(self.items[f"{p}|{s}"]) for p, s in keys if f"{p}|{s}" in self.items
        }

    def save(self, item, expected, previous_cluster):
        stored = self.items.get(item.key)
        if not _version_holds(stored, expected is None, expected):
            raise VersionConflict(item.key)
        item.version = (expected or 0) + 1
        self.items[item.key] = copy.deepcopy(item)
        for cluster_id in {previous_cluster, item.cluster_id} - {None}:
            self.links.get(cluster_id, {}).pop(item.key, None)
        if not item.withdrawn:
            self.links.setdefault(item.cluster_id, {})[item.key] = item.key
        self.saves += 1

    def mark_seen(self, provider, source_id, mark):
        stored = self.items.get(f"{provider}|{source_id}")
        if stored is not None and newer_mark(stored.seen_mark, mark):
            stored.seen_mark = mark
            self.seen_updates += 1

    def for_cluster(self, cluster_id):
        return [copy.deepcopy(self.items[k]) for k in self.links.get(cluster_id, {})]
