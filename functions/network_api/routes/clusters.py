"""Clusters (network records) as catalogers see them: sources, keys, provenance; split; decisions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from network_api.routing import Limit, NetworkRouter, Next, Reason, View, ok
from netzone import network as nw
from netzone.models import StrictModel

router = NetworkRouter()
CATALOGERS = "Network catalogers."


class SplitBody(StrictModel):
    multiline = frozenset({"reason"})
    source: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*\|.+$",
        max_length=300,
        description='the source record, "<provider>|<source id>"',
    )
    reason: Reason


class ClusterView(View):
    """A cluster as catalogers see it: its sources, match keys and field provenance."""

    cluster_id: str
    status: str
    title: str
    sources: list[str]
    merged_into: str | None = None
    keys: list[str]
    provenance: list[dict[str, Any]]
    version: int
    datestamp: str | None = None


class SplitView(BaseModel):
    cluster: ClusterView
    split_into: ClusterView


class DecisionEntry(BaseModel):
    """A catalogers' decision about a cluster, as the audit trail keeps it."""

    id: str
    at: str
    actor: str
    actor_member: str | None = None
    action: str = Field(description="review-accept, review-reject or split")
    object_type: str
    object_id: str
    reason: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@router.reads(
    "/clusters/<cluster_id>",
    "A cluster: its sources, match keys and field provenance",
    CATALOGERS,
    ClusterView,
)
def get_cluster(cluster_id: str):
    return ok(ClusterView.of(router.services.curator.cluster(router.caller(), cluster_id)))


@router.acts(
    "/clusters/<cluster_id>/split",
    "Unmerge: split a source record out into its own cluster",
    CATALOGERS,
    SplitView,
)
def split_cluster(cluster_id: str, body: SplitBody):
    stays, new = router.services.curator.split(router.caller(), cluster_id, body.source, body.reason)
    return ok(SplitView(cluster=ClusterView.of(stays), split_into=ClusterView.of(new)))


@router.lists(
    "/clusters/<cluster_id>/audit",
    "Decisions about a cluster",
    "Network catalogers. Newest first.",
    DecisionEntry,
)
def cluster_audit(cluster_id: str, limit: Limit = 50, next_token: Next = None):
    curator, principal = router.services.curator, router.caller()
    curator.authorize(principal)  # refused before the token is read

    def page(after: str | None) -> nw.Page:
        entries, last = curator.decisions(principal, cluster_id, limit, after)
        return nw.Page(items=[DecisionEntry(**e) for e in entries], next=last)

    return router.paged(page, next_token)
