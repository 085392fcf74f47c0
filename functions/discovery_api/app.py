"""discovery_api: network records and feed job status over API Gateway (REST).

GET /bibs/{id}          the network record, MARCXML or MARC-in-JSON by Accept
GET /bibs/{id}/portfolios   its active electronic portfolios (from KBART feeds), JSON
GET /feeds/jobs/{id}    a feed job: status, counts by outcome, the first rejects
"""

from __future__ import annotations

import json

from api_edge import ApiResolver
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from netzone import marc
from netzone.adapters.dynamodb import DynamoCatalogStore, DynamoJobStore
from netzone.adapters.portfolio_store import DynamoPortfolioStore
from netzone.catalog import Cluster
from netzone.problems import PROBLEM_JSON, Problem, negotiate
from netzone.settings import DiscoverySettings

settings = DiscoverySettings()
logger = Logger()
metrics = Metrics()
app = ApiResolver()
catalog = DynamoCatalogStore(settings.catalog_table)
jobs = DynamoJobStore(settings.jobs_table)
portfolio_store = DynamoPortfolioStore(settings.catalog_table)

MARCXML = "application/marcxml+xml"
MARC_JSON = "application/json"
BIB_FORMATS = [MARCXML, MARC_JSON, "application/xml", "text/xml"]


def _live_cluster(bib_id: str, suffix: str = "") -> Cluster | Response:
    """The active cluster, a 301 to the cluster it was merged into, or a 404/410 problem."""
    cluster = catalog.get_cluster(bib_id)
    if cluster is None:
        raise Problem(
            404, "bib-not-found", f"no network record has id {bib_id!r}; ids are in the feed job or a search"
        )
    if cluster.status == "merged" and cluster.merged_into:
        location = f"/bibs/{cluster.merged_into}{suffix}"
        body = Problem(301, "bib-merged", f"network record {bib_id} was merged into {cluster.merged_into}")
        return Response(301, PROBLEM_JSON, body.to_json(), {"Location": location})
    if cluster.status == "withdrawn" or cluster.record is None:
        raise Problem(
            410, "bib-withdrawn", f"network record {bib_id} was withdrawn: every source record was deleted"
        )
    return cluster


@app.get("/bibs/<bib_id>")
def get_bib(bib_id: str):
    chosen = negotiate(
        app.current_event.headers.get("accept") or app.current_event.headers.get("Accept"), BIB_FORMATS
    )
    if chosen is None:
        raise Problem(
            406, "unsupported-media-type", f"ask for one of {', '.join(BIB_FORMATS[:2])} in the Accept header"
        )
    cluster = _live_cluster(bib_id)
    if isinstance(cluster, Response):
        return cluster
    headers = {"ETag": f'"{cluster.version}"', "Last-Modified-Datestamp": cluster.datestamp or ""}
    if chosen == MARC_JSON:
        return Response(200, MARC_JSON, marc.record_to_marc_json(cluster.record), headers)
    return Response(200, chosen, marc.record_to_marcxml(cluster.record).decode(), headers)


@app.get("/bibs/<bib_id>/portfolios")
def get_bib_portfolios(bib_id: str):
    cluster = _live_cluster(bib_id, "/portfolios")
    if isinstance(cluster, Response):
        return cluster
    found = sorted(
        (p.view() for p in portfolio_store.for_cluster(bib_id)),
        key=lambda v: (
            v["provider"],
            v.get("package") or "",
            v.get("url") or "",
            json.dumps(v, sort_keys=True),
        ),
    )
    return Response(200, "application/json", json.dumps(found, ensure_ascii=False))


@app.get("/feeds/jobs/<job_id>")
def get_feed_job(job_id: str):
    job = jobs.get(job_id)
    if job is None:
        raise Problem(
            404, "job-not-found", f"no feed job {job_id!r}; a job appears once its file starts being read"
        )
    return Response(200, "application/json", job.model_dump_json())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
