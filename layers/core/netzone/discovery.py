"""What discovery systems read: network records by id, their electronic portfolios, the network
record that holds a source record, and feed jobs.

Reads only, open to any caller. A network record a cataloger folded into another is answered as
it is (`merged_into` says where it went, and the API redirects there); a withdrawn one is gone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from netzone.catalog import Cluster, SourceRecord, source_key
from netzone.errors import Gone, NotFound
from netzone.jobs import FeedJob
from netzone.portfolio_filing import PortfolioItem


class CatalogReader(Protocol):
    def get_cluster(self, cluster_id: str) -> Cluster | None: ...

    def get_sources(self, keys: list[tuple[str, str]]) -> dict[str, SourceRecord]: ...


class PortfolioReader(Protocol):
    def for_cluster(self, cluster_id: str) -> list[PortfolioItem]: ...


class JobReader(Protocol):
    def get(self, job_id: str) -> FeedJob | None: ...


@dataclass
class Discovery:
    """The discovery API's reads over the catalog, its portfolios and the feed jobs."""

    catalog: CatalogReader
    portfolios: PortfolioReader
    jobs: JobReader

    def record(self, bib_id: str) -> Cluster:
        """The network record `bib_id`: active, or merged into the one `merged_into` names."""
        cluster = self.catalog.get_cluster(bib_id)
        if cluster is None:
            raise NotFound(
                "bib-not-found", f"no network record has id {bib_id!r}; ids are in the feed job or a search"
            )
        if cluster.status == "merged" and cluster.merged_into:
            return cluster
        if cluster.status == "withdrawn" or cluster.record is None:
            raise Gone(
                "bib-withdrawn", f"network record {bib_id} was withdrawn: every source record was deleted"
            )
        return cluster

    def portfolios_of(self, bib_id: str) -> list[dict[str, Any]]:
        """The active electronic portfolios of a network record as discovery shows them, in a
        stable order (provider, package, URL)."""
        return sorted((p.view() for p in self.portfolios.for_cluster(bib_id)), key=_portfolio_order)

    def source(self, provider: str, source_id: str) -> SourceRecord:
        """The source record `source_id` of `provider`; its `cluster_id` is the network record holding it."""
        found = self.catalog.get_sources([(provider, source_id)]).get(source_key(provider, source_id))
        if found is None:
            raise NotFound(
                "source-not-found",
                f"provider {provider!r} sent no record {source_id!r}; a record's id is its 001 "
                "(or a KBART row's title_id), and the feed job lists what was rejected",
            )
        return found

    def job(self, job_id: str) -> FeedJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(
                "job-not-found", f"no feed job {job_id!r}; a job appears once its file starts being read"
            )
        return job


def _portfolio_order(view: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        view["provider"],
        view.get("package") or "",
        view.get("url") or "",
        json.dumps(view, sort_keys=True),
    )
