"""network_api: the central office's and member staff's API for the network model.

Every route names the permission it needs (see `netzone.access`); the caller is the staff
user whose ID token API Gateway's Cognito authorizer verified (the local stack verifies the
same tokens against the local user pool). Requests pass the shared edge first (`api_edge`:
size, content type, UTF-8, JSON depth); request bodies are strict pydantic models: a bad body is
a 422 problem naming each field; stale versions are 409; unknown ids 404; denials 403.
Lists page with signed tokens bound to the list and the caller's scope (`netzone.paging`).

The routes are a `NetworkRouter` per resource (`network_api/routes/`, shared pieces in
`network_api/routing.py`); this module builds the domain services once per sandbox and
includes the routers. /openapi.json serves the document of the whole REST API, this
function's routes and the discovery API's, with every status each route can answer and its body.
"""

from __future__ import annotations

from functools import cache

import api_docs
from api_edge import ApiResolver, Problem
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities import parameters
from wiring import Wiring

from discovery_api.routes import router as discovery_router
from network_api.routes import (
    audit,
    clusters,
    consortium,
    contributions,
    groups,
    libraries,
    members,
    providers,
    reviews,
    staff,
)
from network_api.routing import JSON, Services
from netzone.adapters.cognito import CognitoStaffDirectory
from netzone.network_service import NetworkService
from netzone.paging import PageTokens
from netzone.record_filing import Filer
from netzone.review import Curator
from netzone.settings import NetworkApiSettings

wiring = Wiring(NetworkApiSettings())
settings, logger = wiring.settings, wiring.logger
network_store = wiring.network


@cache
def page_tokens() -> PageTokens:
    """The signing key, read once per sandbox from Secrets Manager."""
    return PageTokens(parameters.get_secret(settings.page_token_secret_arn).encode())


services = Services(
    network=NetworkService(network_store, CognitoStaffDirectory(settings.staff_user_pool_id)),
    curator=Curator(wiring.catalog, wiring.providers, wiring.portfolios),
    filer=Filer(wiring.catalog, wiring.providers),
    page_tokens=page_tokens,
)


def _log_denial(error: Problem) -> None:
    logger.info("denied", extra={"status": error.status, "detail": error.detail})


app = ApiResolver(on_denied=_log_denial)
RESOURCES = (
    consortium,
    members,
    libraries,
    groups,
    contributions,
    providers,
    staff,
    audit,
    reviews,
    clusters,
)
for resource in RESOURCES:
    app.include_router(resource.router)


@app.get("/openapi.json", summary="The REST API's OpenAPI document", include_in_schema=False)
def openapi():
    return Response(200, JSON, _document())


@cache
def _document() -> str:
    return api_docs.document(app, discovery_router)


handler = wiring.api_handler(app, services=services)
