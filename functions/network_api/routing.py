"""What every route of the network API shares: its router, the caller, paging and the answers.

Each resource's routes live in `network_api/routes/<resource>.py` on a `NetworkRouter`, which
`app.py` includes. A route is declared by its kind (`router.lists`, `reads`, `creates`,
`changes`, `acts`), which fixes its method, success status and the problems it documents; it
reads the caller (`router.caller()`), calls the domain through `router.services` (built once
per sandbox by `app.py` and shared with the routers for each request) and answers with a
model: `ok`, `created`, or `router.page` / `router.paged` for a list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

from api_edge import responses
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel, Field

from netzone import network as nw
from netzone import record_filing
from netzone.access import Principal, principal_from_claims
from netzone.errors import Invalid
from netzone.network_service import NetworkService
from netzone.paging import PageTokens
from netzone.review import Curator

logger = Logger(child=True)

Route = Callable[..., Any]

JSON = "application/json"

# Statuses a route answers besides 400, 401, 422 and 500 (every route can).
READ = (403, 404)
WRITE = (403, 404, 409)

Limit = Annotated[int, Query(ge=1, le=nw.MAX_PAGE, description="items per page")]
Next = Annotated[str | None, Query(alias="next", description="the next token of the previous page")]
Reason = Annotated[str, Field(min_length=3, max_length=1000, description="why: kept in the audit trail")]


@dataclass(frozen=True)
class Services:
    """The domain objects the routes call, built once per sandbox by `app.py`."""

    network: NetworkService
    curator: Curator
    filer: record_filing.Filer
    page_tokens: Callable[[], PageTokens]  # the signing key, read from Secrets Manager on first use


class NetworkRouter(Router):
    """A Powertools `Router` whose routes reach the caller, the services and signed paging."""

    @property
    def services(self) -> Services:
        services: Services = self.context["services"]
        return services

    @property
    def event(self) -> APIGatewayProxyEvent:
        """The request, as API Gateway's REST API passes it (the app is a REST resolver)."""
        return cast(APIGatewayProxyEvent, self.current_event)

    # The kinds of route: each documents its success body and the problems it can answer.
    def lists(
        self, path: str, summary: str, who: str, item: Any, problems: tuple[int, ...] = READ
    ) -> Callable[[Route], Route]:
        """A paged list: GET answering a `Page` of `item`."""
        documented = responses(200, nw.Page[item], *problems)
        return self.get(path, summary=summary, description=f"{who} Paged.", responses=documented)

    def reads(self, path: str, summary: str, who: str, model: Any) -> Callable[[Route], Route]:
        """One object: GET."""
        return self.get(path, summary=summary, description=who, responses=responses(200, model, *READ))

    def creates(self, path: str, summary: str, who: str, model: Any) -> Callable[[Route], Route]:
        """A new object from the body: POST answering 201."""
        return self.post(
            path, summary=summary, description=who, responses=responses(201, model, *WRITE, body=True)
        )

    def changes(self, path: str, summary: str, who: str, model: Any) -> Callable[[Route], Route]:
        """A changed object from the body: PUT answering 200."""
        return self.put(
            path, summary=summary, description=who, responses=responses(200, model, *WRITE, body=True)
        )

    def acts(self, path: str, summary: str, who: str, model: Any) -> Callable[[Route], Route]:
        """An action on an object (accept, split, ...): POST answering 200 with what it changed."""
        return self.post(
            path, summary=summary, description=who, responses=responses(200, model, *WRITE, body=True)
        )

    def caller(self) -> Principal:
        """The staff user whose ID token API Gateway's Cognito authorizer verified."""
        authorizer = self.event.request_context.authorizer
        claims = authorizer.claims if authorizer else None
        principal = principal_from_claims(claims)
        logger.append_keys(actor=principal.username)
        return principal

    def paged(
        self, list_page: Callable[[str | None], nw.Page], next_token: str | None, *filters: str
    ) -> Response:
        """A page of a list, its `next` sealed for this list (path and filters) and the caller's scope."""
        bound_to = "|".join((self.event.path, self.caller().member or "-", *filters))
        tokens = self.services.page_tokens
        after = tokens().open(next_token, bound_to) if next_token else None  # or InvalidPageToken
        page = list_page(after)
        if page.next:
            page = page.model_copy(update={"next": tokens().seal(page.next, bound_to)})
        return ok(page)

    def page(
        self, list_page: Callable[..., nw.Page], *args: str | None, limit: int, next_token: str | None
    ) -> Response:
        """A page of a domain list called as `list_page(caller, *args, limit, after)`."""
        caller = self.caller()
        return self.paged(lambda after: list_page(caller, *args, limit, after), next_token)

    @property
    def network(self) -> NetworkService:
        return self.services.network


class View(BaseModel):
    """A response body read off a domain object's attributes of the same names."""

    @classmethod
    def of(cls, thing: object) -> Any:
        return cls(**{name: getattr(thing, name) for name in cls.model_fields})


def ok(model: BaseModel) -> Response:
    return Response(200, JSON, model.model_dump_json())


def created(model: BaseModel) -> Response:
    return Response(201, JSON, model.model_dump_json())


def same(what: str, in_path: str, in_body: str) -> None:
    """The code in the path and in the body name the same thing."""
    if in_path != in_body:
        raise Invalid(
            "code-mismatch", f"the {what} in the path ({in_path}) and in the body ({in_body}) differ"
        )
