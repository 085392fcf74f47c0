"""Electronic portfolios: KBART rows attached to network records. Pure domain, no AWS.

For each row of a `PortfolioBatch`:

- its ISBN/ISSN match keys (`kbart.Portfolio.match_keys`, the same `isbn:`/`issn:` keys MARC
  records are filed under) are looked up on the key items (one batch read for the whole
  batch); the portfolio is attached to the active cluster that shares most of them, online
  identifiers before print, then the lowest cluster id: **merged**;
- no network record holds any of them: a brief record is made from the row
  (`brief_records.brief_record`, source provider = the feed's provider, source id =
  `kbart.source_id`) and filed through `record_filing.Filer` like any record, so it may start a
  cluster (**created**), go to **review**, or join a cluster by its content keys (**merged**);
  the portfolio is attached where it lands;
- the same content already attached to the same cluster: **unchanged** (in a full-replacement
  feed only its `seen_mark` is updated);
- a row that cannot be filed: **rejected**, with the reason.

Each portfolio write is one transaction conditional on the version read (the portfolio and its
link under the cluster). A redelivered batch finds each row's last job and position on its
portfolio and reports the outcome it had, without writing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from netzone import brief_records, catalog, kbart, marc
from netzone.batches import BatchRecord, PortfolioBatch, PortfolioRow, RecordBatch, latest_mark, newer_mark
from netzone.catalog import CatalogStore
from netzone.clock import now
from netzone.jobs import FiledRecord, Outcome, Reject
from netzone.record_filing import BatchResult, Filer
from netzone.retry import retry_on_conflict


@dataclass
class PortfolioItem:
    """A provider's portfolio as stored: where it is attached and what the row said."""

    provider: str
    source_id: str  # the portfolio id (`kbart_ingest.portfolio_id`)
    cluster_id: str
    portfolio: dict  # kbart.Portfolio.to_dict()
    content_hash: str
    brief_source: str | None = None  # the brief record's source id, when this row made one
    withdrawn: bool = False
    seen_mark: str | None = None  # the seen mark of the newest file that held this row (batches.seen_mark)
    version: int = 0
    last_job: str | None = None
    last_position: int | None = None
    last_outcome: Outcome | None = None
    updated_at: str | None = None
    linked_view: dict | None = None  # read from the cluster's link: the view alone, no portfolio

    @property
    def key(self) -> str:
        return catalog.source_key(self.provider, self.source_id)

    def view(self) -> dict:
        """What discovery shows of the portfolio."""
        if self.linked_view is not None:
            return self.linked_view
        p = self.portfolio
        return {
            "provider": self.provider,
            "package": p.get("package"),
            "title": p.get("publication_title"),
            "publication_type": p.get("publication_type"),
            "coverage": [
                {k: v for k, v in c.items() if v not in (None, [], ())} for c in p.get("coverage", [])
            ],
            "coverage_depth": p.get("coverage_depth"),
            "open_access": bool(p.get("open_access", False)),
            "url": p.get("title_url"),
            "identifiers": [
                {"role": i["role"], "kind": i["kind"], "value": i["value"]}
                for i in p.get("identifiers", [])
                if i.get("valid", True)
            ],
        }


class PortfolioStore(Protocol):
    def get_portfolios(self, keys: list[tuple[str, str]]) -> dict[str, PortfolioItem]: ...

    def save(self, item: PortfolioItem, expected: int | None, previous_cluster: str | None) -> None:
        """Write the portfolio and its link under `item.cluster_id` (removing the link under
        `previous_cluster`, or all links when withdrawn), conditional on `expected` (None: new).
        `netzone.errors.VersionConflict` if the portfolio moved; the version advances on success."""
        ...

    def mark_seen(self, provider: str, source_id: str, mark: str) -> None:
        """Set only the seen mark, to a full-replacement file's (an unchanged row), unless the
        portfolio carries a newer one (marks never move back)."""
        ...

    def for_cluster(self, cluster_id: str) -> list[PortfolioItem]:
        """The active portfolios attached to a cluster (one query on its links)."""
        ...


def content_hash(portfolio: dict) -> str:
    return hashlib.sha256(json.dumps(portfolio, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def choose_cluster(portfolio: kbart.Portfolio, holders: dict[str, list[str]]) -> str | None:
    """The cluster a portfolio belongs to, from `holders` (match key -> active cluster ids).

    Most shared identifier keys first, then a cluster holding an online identifier before one
    holding only print identifiers, then the lowest cluster id: the same data, the same choice.
    """
    online = {f"{i.kind}:{i.value}" for i in portfolio.identifiers if i.role == "online" and i.valid} & set(
        portfolio.match_keys()
    )
    shared: dict[str, set[str]] = {}
    for key in portfolio.match_keys():
        for cluster_id in holders.get(key, []):
            shared.setdefault(cluster_id, set()).add(key)
    if not shared:
        return None
    return min(shared, key=lambda c: (-len(shared[c]), not (shared[c] & online), c))


def move_portfolios(
    store: PortfolioStore,
    from_cluster: str,
    to_cluster: str,
    brief_source: str | None = None,
    retries: int = 5,
) -> int:
    """Move portfolios from one network record to another after a cataloger's decision: all of
    them when a cluster is folded into another (accept), or only those that made the brief
    record `brief_source` ("provider|id") when it is split out. Discovery then shows them on
    the record that holds their title. Idempotent: a retry finds nothing left to move."""
    moved = 0
    for item in store.for_cluster(from_cluster):
        if (
            brief_source is not None
            and catalog.source_key(item.provider, item.brief_source or "") != brief_source
        ):
            continue
        moved += _move_portfolio(store, item, from_cluster, to_cluster, retries)
    return moved


def _move_portfolio(
    store: PortfolioStore, item: PortfolioItem, from_cluster: str, to_cluster: str, retries: int
) -> bool:
    """Move one portfolio, re-reading it after a conflict; False when it was withdrawn or moved."""
    current = item

    def move() -> bool:
        if current.withdrawn or current.cluster_id != from_cluster:
            return False  # withdrawn or moved meanwhile
        read_version = current.version
        current.cluster_id, current.updated_at = to_cluster, now()
        store.save(current, read_version, from_cluster)
        return True

    def reread() -> None:
        nonlocal current
        current = store.get_portfolios([(item.provider, item.source_id)])[item.key]

    return retry_on_conflict(move, retries, before_retry=reread)


@dataclass
class PortfolioFiler:
    """Files batches of KBART rows as electronic portfolios on the network records that hold
    their titles (a brief record when none does), and withdraws portfolios a feed dropped."""

    catalog_store: CatalogStore
    store: PortfolioStore
    priorities: catalog.ProviderPriorities = field(default_factory=catalog.FlatPriorities)
    retries: int = 6

    @property
    def records(self) -> Filer:
        return Filer(self.catalog_store, self.priorities, self.retries)

    # ------------------------------------------------------------ filing a batch

    def file_batch(self, batch: PortfolioBatch) -> BatchResult:
        """File every row of a batch; the outcome counts sum to the batch size."""
        result = BatchResult()
        known = self.store.get_portfolios([(batch.provider, r.portfolio_id) for r in batch.rows])
        portfolios: dict[int, kbart.Portfolio | None] = {}
        errors: dict[int, str] = {}
        for row in batch.rows:
            try:
                portfolios[row.position] = row.to_portfolio()
            except (TypeError, ValueError) as exc:
                portfolios[row.position] = None
                errors[row.position] = f"the row could not be read back ({exc})"
        members: dict[str, list[str]] = {}  # cluster id -> its sources, as read with the key items
        holders = self._holders([p for p in portfolios.values() if p is not None], members)

        def file_row(row: PortfolioRow) -> tuple[Outcome, str | None, str | None]:
            portfolio = portfolios[row.position]
            if portfolio is None:
                return "rejected", None, errors[row.position]
            return self._file_row(batch, row, portfolio, known, holders, members)

        def reread(row: PortfolioRow) -> None:  # what another writer changed
            known.update(self.store.get_portfolios([(batch.provider, row.portfolio_id)]))
            portfolio = portfolios[row.position]
            if portfolio is not None:
                holders.update(self._holders([portfolio], members))

        for row in batch.rows:
            outcome, cluster_id, reason = retry_on_conflict(
                partial(file_row, row), self.retries, before_retry=partial(reread, row)
            )
            if outcome == "rejected":
                result.rejects.append(
                    Reject(position=row.position, source_id=row.portfolio_id, reason=reason or "not filed")
                )
            result.counts[outcome] += 1
            result.filed.append(
                FiledRecord(
                    position=row.position,
                    source_id=row.portfolio_id,
                    outcome=outcome,
                    network_record=cluster_id,
                )
            )
            if cluster_id:
                result.clusters.append(cluster_id)
        return result

    def _holders(
        self, portfolios: list[kbart.Portfolio], members: dict[str, list[str]]
    ) -> dict[str, list[str]]:
        """Match key -> active clusters holding it, for all the rows at once (two batch reads)."""
        keys = list(dict.fromkeys(k for p in portfolios for k in p.match_keys()))
        entries = self.catalog_store.get_keys(keys) if keys else {}
        cluster_ids = sorted({c for e in entries.values() for c in e.clusters})
        clusters = self.catalog_store.get_clusters(cluster_ids) if cluster_ids else {}
        active = {c for c, cluster in clusters.items() if cluster.status == "active"}
        members.update({c: clusters[c].sources for c in active})
        return {k: [c for c in entries[k].clusters if c in active] if k in entries else [] for k in keys}

    def _file_row(
        self,
        batch: PortfolioBatch,
        row: PortfolioRow,
        portfolio: kbart.Portfolio,
        known: dict[str, PortfolioItem],
        holders: dict[str, list[str]],
        members: dict[str, list[str]],
    ) -> tuple[Outcome, str | None, str | None]:
        key = catalog.source_key(batch.provider, row.portfolio_id)
        existing = known.get(key)
        if existing and existing.last_job == batch.job_id and existing.last_position == row.position:
            # Redelivered: every write by a job sets the outcome it reports here.
            return existing.last_outcome, existing.cluster_id, None  # type: ignore[return-value]
        data = portfolio.to_dict()
        digest = content_hash(data)
        cluster_id = choose_cluster(portfolio, holders)
        brief_source = existing.brief_source if existing else None
        outcome: Outcome = "merged"
        own_brief = kbart.source_id(portfolio)
        if (
            cluster_id is not None
            and catalog.source_key(batch.provider, own_brief) in members.get(cluster_id, [])
            and (existing is None or existing.withdrawn or existing.cluster_id != cluster_id)
        ):
            # The cluster holds this row's brief record: made by this very row on a delivery that
            # stopped before the portfolio was written? Then the row keeps that outcome.
            brief_outcome, brief_cluster = self._brief_record(batch, row.position, own_brief, portfolio)
            if brief_outcome in ("created", "review") and brief_cluster == cluster_id:
                outcome, brief_source = brief_outcome, own_brief
        if cluster_id is None:
            brief_source = own_brief
            brief_outcome, cluster_id = self._brief_record(batch, row.position, brief_source, portfolio)
            if brief_outcome in ("created", "review"):
                outcome = brief_outcome
            if brief_outcome == "rejected" or cluster_id is None:
                return "rejected", None, "the brief record made from the row could not be filed"
            for k in portfolio.match_keys():  # later rows of this batch find the new record
                holders[k] = sorted(set(holders.get(k, [])) | {cluster_id})
            members.setdefault(cluster_id, []).append(catalog.source_key(batch.provider, brief_source))
        if (
            outcome == "merged"
            and existing is not None
            and not existing.withdrawn
            and existing.cluster_id == cluster_id
            and existing.content_hash == digest
        ):
            # Already there as it is (also a row without identifiers that found its brief record).
            if batch.feed_mode == "full" and newer_mark(existing.seen_mark, batch.seen_mark):
                self.store.mark_seen(batch.provider, row.portfolio_id, batch.seen_mark)
                existing.seen_mark = batch.seen_mark
            return "unchanged", cluster_id, None
        item = PortfolioItem(
            provider=batch.provider,
            source_id=row.portfolio_id,
            cluster_id=cluster_id,
            portfolio=data,
            content_hash=digest,
            brief_source=brief_source,
            seen_mark=latest_mark(existing.seen_mark if existing else None, batch.seen_mark),
            version=existing.version if existing else 0,
            last_job=batch.job_id,
            last_position=row.position,
            last_outcome=outcome,
            updated_at=now(),
        )
        previous = existing.cluster_id if existing and not existing.withdrawn else None
        self.store.save(item, existing.version if existing else None, previous)
        known[key] = item
        return outcome, cluster_id, None

    def _brief_record(
        self, batch: PortfolioBatch, position: int, source_id: str, portfolio: kbart.Portfolio
    ) -> tuple[Outcome, str | None]:
        """File the row's brief record (or find the one filed before): its outcome and cluster."""
        existing = self.catalog_store.get_sources([(batch.provider, source_id)]).get(
            catalog.source_key(batch.provider, source_id)
        )
        if existing is not None and not existing.withdrawn:
            if existing.last_job == batch.job_id and existing.last_position == position:
                return existing.last_outcome or "unchanged", existing.cluster_id
            return "unchanged", existing.cluster_id  # another row of the title made it: keep it
        record = brief_records.brief_record(portfolio)
        records = RecordBatch(
            job_id=batch.job_id,
            provider=batch.provider,
            seq=batch.seq,
            feed_mode=batch.feed_mode,
            seen_mark=batch.seen_mark,
            brief=True,
            records=[
                BatchRecord(position=position, source_id=source_id, marc=marc.record_to_marc_json(record))
            ],
        )
        filed = self.records.file_batch(records)
        (outcome,) = filed.counts
        return outcome, (filed.clusters[0] if filed.clusters else None)

    # ------------------------------------------------------------ withdrawing

    def withdraw(self, provider: str, source_id: str, job_id: str, unless_seen: str | None = None) -> bool:
        """Withdraw a provider's portfolio (a full-replacement feed no longer lists it), unless
        it carries the seen mark `unless_seen` of that file or a newer one.

        Marks it withdrawn and removes its link under the cluster, conditional on the version
        read; when its cluster is a brief record made from this row alone (no other source, no
        other portfolio attached), that brief record is withdrawn too (the cluster becomes a
        tombstone). True when `job_id` withdrew it, now or on an earlier try (a retried step
        counts it exactly once); False when it is absent or something else withdrew it.
        """
        key = catalog.source_key(provider, source_id)

        def withdraw() -> bool:
            item = self.store.get_portfolios([(provider, source_id)]).get(key)
            if item is None:
                return False
            if item.withdrawn:
                return item.last_job == job_id and item.last_outcome == "withdrawn"
            if unless_seen and (not newer_mark(item.seen_mark, unless_seen) or item.last_job == job_id):
                return False  # this file or a newer one holds it (the sweep's index lagged behind)
            self._withdraw_brief_record(item, job_id)
            read_version = item.version
            item.withdrawn = True
            item.last_job, item.last_position, item.last_outcome = job_id, None, "withdrawn"
            item.updated_at = now()
            self.store.save(item, read_version, item.cluster_id)
            return True

        return retry_on_conflict(withdraw, self.retries)

    def _withdraw_brief_record(self, item: PortfolioItem, job_id: str) -> None:
        if not item.brief_source:
            return
        brief = catalog.source_key(item.provider, item.brief_source)
        cluster = self.catalog_store.get_clusters([item.cluster_id]).get(item.cluster_id)
        if cluster is None or cluster.status != "active" or cluster.sources != [brief]:
            return  # other records describe the title too: the network record stays
        others = [p for p in self.store.for_cluster(item.cluster_id) if p.key != item.key]
        if not others:
            self.records.withdraw_source(item.provider, item.brief_source, job_id)

    def for_cluster(self, cluster_id: str) -> list[PortfolioItem]:
        return sorted(self.store.for_cluster(cluster_id), key=lambda p: (p.provider, p.source_id))
