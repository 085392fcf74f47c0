"""The one OpenAPI document of netzone's REST API, as `/openapi.json` serves it.

API Gateway fronts several functions, each serving its own routes; every route declares its
statuses and bodies (`api_edge.responses`). The document is every function's routes merged
(Powertools' `OpenAPIMerge`): a client sees one API, whichever function answers a path.
"""

from __future__ import annotations

from api_edge import ApiResolver
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

TITLE = "netzone API"
VERSION = "1"


def document(app: APIGatewayRestResolver, *others: Router) -> str:
    """The document of `app`'s routes and of `others`, routers that other functions serve."""
    merged = OpenAPIMerge(title=TITLE, version=VERSION, on_conflict="error")
    for resolver in (app, *map(_documented, others)):
        schema = resolver.get_openapi_schema(title=TITLE, version=VERSION)
        merged.add_schema(schema.model_dump(by_alias=True, exclude_none=True))
    return merged.get_openapi_json_schema()


def _documented(router: Router) -> APIGatewayRestResolver:
    """A resolver holding `router`'s routes, only to document them (it never resolves a request)."""
    serving = router.api_resolver
    documenting = ApiResolver()
    documenting.include_router(router)
    router.api_resolver = serving  # including points a router at the resolver: point it back
    return documenting
