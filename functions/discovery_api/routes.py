"""The discovery API's routes: network records, their portfolios, where a source record is filed,
and feed jobs. Open to any caller (no authorizer); the domain's reads are `netzone.discovery`."""

from __future__ import annotations

from typing import Any

from api_edge import PROBLEM_JSON, Problem, negotiate, responses
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ConfigDict, Field, RootModel

from netzone import marc
from netzone.catalog import Cluster
from netzone.discovery import Discovery
from netzone.jobs import FeedJob

MARCXML = "application/marcxml+xml"
MARC_JSON = "application/json"
BIB_FORMATS = [MARCXML, MARC_JSON, "application/xml", "text/xml"]


class DiscoveryRouter(Router):
    """A Powertools `Router` whose routes reach `Discovery`, which app.py shares for each request."""

    @property
    def discovery(self) -> Discovery:
        discovery: Discovery = self.context["discovery"]
        return discovery


router = DiscoveryRouter()


class MarcJson(BaseModel):
    """A record in MARC-in-JSON: its leader and its fields in order."""

    leader: str
    fields: list[dict[str, Any]]


class PortfolioView(BaseModel):
    """An electronic portfolio as discovery shows it (from a provider's KBART list)."""

    model_config = ConfigDict(extra="allow")
    provider: str
    package: str | None = None
    title: str | None = None
    publication_type: str | None = None
    coverage: list[dict[str, Any]] = Field(default_factory=list)
    coverage_depth: str | None = None
    open_access: bool = False
    url: str | None = None
    identifiers: list[dict[str, Any]] = Field(default_factory=list)


class Portfolios(RootModel[list[PortfolioView]]):
    pass


class SourceView(BaseModel):
    """Where a provider's source record is filed: the network record that holds it."""

    provider: str
    source_id: str
    cluster_id: str = Field(description="the network record (cluster) that holds the source record")
    title: str
    withdrawn: bool = Field(
        description="the provider deleted it, or a full-replacement feed no longer held it"
    )
    link: str = Field(description="the network record: GET it as MARCXML or MARC-in-JSON")


BIB_RESPONSES = responses(200, MarcJson, 301, 404, 406, 410, public=True)
BIB_RESPONSES[200]["content"] |= {
    media: {"schema": {"type": "string"}} for media in BIB_FORMATS if media != MARC_JSON
}


def ok(model: BaseModel) -> Response:
    return Response(200, "application/json", model.model_dump_json())


def _moved(cluster: Cluster, asked: str, suffix: str = "") -> Response:
    """A 301 from a record a cataloger merged to the record it was merged into."""
    body = Problem(301, "bib-merged", f"network record {asked} was merged into {cluster.merged_into}")
    return Response(301, PROBLEM_JSON, body.to_json(), {"Location": f"/bibs/{cluster.merged_into}{suffix}"})


@router.get(
    "/bibs/<bib_id>",
    summary="A network record, as MARCXML or MARC-in-JSON (by Accept)",
    description="Anyone. A record merged into another answers 301 to it; a withdrawn record 410.",
    responses=BIB_RESPONSES,
)
def get_bib(bib_id: str):
    headers = router.current_event.headers
    chosen = negotiate(headers.get("accept") or headers.get("Accept"), BIB_FORMATS)
    if chosen is None:
        raise Problem(
            406, "unsupported-media-type", f"ask for one of {', '.join(BIB_FORMATS[:2])} in the Accept header"
        )
    cluster = router.discovery.record(bib_id)
    if cluster.status == "merged":
        return _moved(cluster, bib_id)
    assert cluster.record is not None  # an active record has one (`Discovery.record`)
    headers = {"ETag": f'"{cluster.version}"', "Last-Modified-Datestamp": cluster.datestamp or ""}
    if chosen == MARC_JSON:
        return Response(200, MARC_JSON, marc.record_to_marc_json(cluster.record), headers)
    return Response(200, chosen, marc.record_to_marcxml(cluster.record).decode(), headers)


@router.get(
    "/bibs/<bib_id>/portfolios",
    summary="A network record's active electronic portfolios (from KBART feeds)",
    description="Anyone. A record merged into another answers 301 to its portfolios; a withdrawn record 410.",
    responses=responses(200, Portfolios, 301, 404, 410, public=True),
)
def get_bib_portfolios(bib_id: str):
    cluster = router.discovery.record(bib_id)
    if cluster.status == "merged":
        return _moved(cluster, bib_id, "/portfolios")
    return ok(Portfolios([PortfolioView(**view) for view in router.discovery.portfolios_of(bib_id)]))


@router.get(
    "/sources/<provider>/<source_id>",
    summary="The network record that holds a provider's source record",
    description="Anyone. The source id is the record's 001 (or a KBART row's title_id).",
    responses=responses(200, SourceView, 404, public=True),
)
def get_source(provider: str, source_id: str):
    source = router.discovery.source(provider, source_id)
    return ok(
        SourceView(
            provider=source.provider,
            source_id=source.source_id,
            cluster_id=source.cluster_id,
            title=source.title,
            withdrawn=source.withdrawn,
            link=f"/bibs/{source.cluster_id}",
        )
    )


@router.get(
    "/feeds/jobs/<job_id>",
    summary="A feed job: its status, counts by outcome and first rejects",
    description="Anyone.",
    responses=responses(200, FeedJob, 404, public=True),
)
def get_feed_job(job_id: str):
    return ok(router.discovery.job(job_id))
