"""network_api: the central office's and member staff's API for the network model.

Every route names the permission it needs (see `netzone.access`); the caller is the staff
user whose ID token API Gateway's Cognito authorizer verified (the local stack verifies the
same tokens against the local user pool). Requests pass the shared edge first (`api_edge`:
size, content type, UTF-8, JSON depth); request bodies are strict pydantic models: a bad body is
a 422 problem naming each field; stale versions are 409; unknown ids 404; denials 403.
Lists page with signed tokens bound to the list and the caller's scope (`netzone.paging`).
The OpenAPI document is generated from these routes, with every status each can answer and
its body, and served at /openapi.json.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from api_edge import ApiResolver, responses
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from netzone import catalog
from netzone import network as nw
from netzone.access import Principal, principal_from_claims
from netzone.adapters.cognito import CognitoStaffDirectory
from netzone.adapters.dynamodb import DynamoCatalogStore
from netzone.adapters.network_store import DynamoNetworkStore, ProviderRegistry
from netzone.adapters.portfolio_store import DynamoPortfolioStore
from netzone.contributions import Contribution, ContributionBody, contribute
from netzone.models import StrictModel
from netzone.paging import InvalidPageToken, PageTokens
from netzone.problems import Problem
from netzone.review import Curator
from netzone.settings import NetworkApiSettings

settings = NetworkApiSettings()
logger = Logger()
metrics = Metrics()


def _log_denial(error: Problem) -> None:
    logger.info("denied", extra={"status": error.status, "detail": error.detail})


app = ApiResolver(on_denied=_log_denial)
network_store = DynamoNetworkStore(settings.network_table)
service = nw.NetworkService(network_store, CognitoStaffDirectory(settings.staff_user_pool_id))
catalog_store = DynamoCatalogStore(settings.catalog_table)
priorities = ProviderRegistry(network_store)
curator = Curator(catalog_store, priorities, DynamoPortfolioStore(settings.catalog_table))
filer = catalog.Filer(catalog_store, priorities)

Limit = Annotated[int, Query(ge=1, le=nw.MAX_PAGE, description="items per page")]
Next = Annotated[str | None, Query(alias="next", description="the next token of the previous page")]


def caller() -> Principal:
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.claims if authorizer else None
    principal = principal_from_claims(claims)
    logger.append_keys(actor=principal.username)
    return principal


def created(model) -> Response:
    return Response(201, "application/json", model.model_dump_json())


def ok(model) -> Response:
    return Response(200, "application/json", model.model_dump_json())


@cache
def page_tokens() -> PageTokens:
    """The signing key, read once per sandbox from Secrets Manager."""
    return PageTokens(parameters.get_secret(settings.page_token_secret_arn).encode())


def paged(list_page: Callable[[str | None], nw.Page], next_token: str | None, *filters: str) -> Response:
    """A page of a list, its `next` sealed for this list (path and filters) and the caller's scope."""
    bound_to = "|".join((app.current_event.path, caller().member or "-", *filters))
    try:
        after = page_tokens().open(next_token, bound_to) if next_token else None
    except InvalidPageToken as error:
        raise Problem(422, "invalid-next-token", str(error)) from error
    page = list_page(after)
    if page.next:
        page = page.model_copy(update={"next": page_tokens().seal(page.next, bound_to)})
    return ok(page)


# Statuses a route answers besides 400, 401, 422 and 500 (every route can).
READ = (403, 404)
WRITE = (403, 404, 409)


# ---------------------------------------------------------------- consortium


@app.get(
    "/network",
    summary="The consortium",
    description="Any staff.",
    responses=responses(200, nw.Consortium, *READ),
)
def get_network():
    return ok(service.get_consortium(caller()))


@app.put(
    "/network",
    summary="Create or change the consortium",
    description="Central-office administrators.",
    responses=responses(200, nw.Consortium, *WRITE, body=True),
)
def put_network(body: nw.ConsortiumBody):
    return ok(service.put_consortium(caller(), body))


# ---------------------------------------------------------------- members


@app.get(
    "/members",
    summary="List member institutions",
    description="Any staff. Paged.",
    responses=responses(200, nw.Page[nw.Member], *READ),
)
def list_members(limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_members(caller(), limit, after), next_token)


@app.post(
    "/members",
    summary="Add a member institution",
    description="Central-office administrators.",
    responses=responses(201, nw.Member, *WRITE, body=True),
)
def create_member(body: nw.MemberBody):
    return created(service.save_member(caller(), body, create=True))


@app.get(
    "/members/<member>",
    summary="A member institution",
    description="Any staff.",
    responses=responses(200, nw.Member, *READ),
)
def get_member(member: str):
    return ok(service.get_member(caller(), member))


@app.put(
    "/members/<member>",
    summary="Change a member (status, contact, import permissions)",
    description="Central-office administrators. Send the version you read.",
    responses=responses(200, nw.Member, *WRITE, body=True),
)
def put_member(member: str, body: nw.MemberBody):
    _same("member", member, body.code)
    return ok(service.save_member(caller(), body, create=False))


# ---------------------------------------------------------------- libraries


@app.get(
    "/libraries",
    summary="All libraries of the network",
    description="Network-scoped staff. Paged.",
    responses=responses(200, nw.Page[nw.Library], *READ),
)
def list_all_libraries(limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_all_libraries(caller(), limit, after), next_token)


@app.get(
    "/members/<member>/libraries",
    summary="A member's libraries and campuses",
    description="The member's staff. Paged.",
    responses=responses(200, nw.Page[nw.Library], *READ),
)
def list_libraries(member: str, limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_libraries(caller(), member, limit, after), next_token)


@app.post(
    "/members/<member>/libraries",
    summary="Add a library, campus or community",
    description="Member administrators.",
    responses=responses(201, nw.Library, *WRITE, body=True),
)
def create_library(member: str, body: nw.LibraryBody):
    return created(service.save_library(caller(), member, body, create=True))


@app.get(
    "/members/<member>/libraries/<library>",
    summary="A library",
    description="The member's staff.",
    responses=responses(200, nw.Library, *READ),
)
def get_library(member: str, library: str):
    return ok(service.get_library(caller(), member, library))


@app.put(
    "/members/<member>/libraries/<library>",
    summary="Change a library",
    description="Member administrators.",
    responses=responses(200, nw.Library, *WRITE, body=True),
)
def put_library(member: str, library: str, body: nw.LibraryBody):
    _same("library", library, body.code)
    return ok(service.save_library(caller(), member, body, create=False))


# ---------------------------------------------------------------- groups


@app.get(
    "/groups",
    summary="Network groups",
    description="Any staff. Paged.",
    responses=responses(200, nw.Page[nw.Group], *READ),
)
def list_network_groups(limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_groups(caller(), "network", limit, after), next_token)


@app.post(
    "/groups",
    summary="Add a network group",
    description="Central-office administrators.",
    responses=responses(201, nw.Group, *WRITE, body=True),
)
def create_network_group(body: nw.GroupBody):
    return created(service.save_group(caller(), "network", body, create=True))


@app.get(
    "/groups/<group>",
    summary="A network group",
    description="Any staff.",
    responses=responses(200, nw.Group, *READ),
)
def get_network_group(group: str):
    return ok(service.get_group(caller(), "network", group))


@app.put(
    "/groups/<group>",
    summary="Change a network group",
    description="Central-office administrators.",
    responses=responses(200, nw.Group, *WRITE, body=True),
)
def put_network_group(group: str, body: nw.GroupBody):
    _same("group", group, body.code)
    return ok(service.save_group(caller(), "network", body, create=False))


@app.get(
    "/members/<member>/groups",
    summary="A member's own groups",
    description="The member's staff. Paged.",
    responses=responses(200, nw.Page[nw.Group], *READ),
)
def list_member_groups(member: str, limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_groups(caller(), member, limit, after), next_token)


@app.post(
    "/members/<member>/groups",
    summary="Add a member group",
    description="Member administrators.",
    responses=responses(201, nw.Group, *WRITE, body=True),
)
def create_member_group(member: str, body: nw.GroupBody):
    return created(service.save_group(caller(), member, body, create=True))


@app.get(
    "/members/<member>/groups/<group>",
    summary="A member group",
    description="The member's staff.",
    responses=responses(200, nw.Group, *READ),
)
def get_member_group(member: str, group: str):
    return ok(service.get_group(caller(), member, group))


@app.put(
    "/members/<member>/groups/<group>",
    summary="Change a member group",
    description="Member administrators.",
    responses=responses(200, nw.Group, *WRITE, body=True),
)
def put_member_group(member: str, group: str, body: nw.GroupBody):
    _same("group", group, body.code)
    return ok(service.save_group(caller(), member, body, create=False))


# ---------------------------------------------------------------- contributions


@app.post(
    "/contributions",
    summary="Contribute records to the network",
    description=(
        "Member administrators and catalogers of a member with import permission (bibliographic or "
        "authority). Up to 50 MARC-in-JSON records, filed under the same matching as provider feeds; "
        "one invalid record rejects the whole contribution (422, a reason per record) before any is "
        "filed. Sending it again changes nothing and reports the same outcomes."
    ),
    responses=responses(200, Contribution, 403, 404, 409, body=True),
)
def post_contribution(body: ContributionBody):
    return ok(contribute(caller(), body, service, filer))


# ---------------------------------------------------------------- providers


@app.get(
    "/providers",
    summary="Content providers",
    description="Any staff. Paged.",
    responses=responses(200, nw.Page[nw.Provider], *READ),
)
def list_providers(limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_providers(caller(), limit, after), next_token)


@app.post(
    "/providers",
    summary="Register a provider",
    description="Central-office administrators.",
    responses=responses(201, nw.Provider, *WRITE, body=True),
)
def create_provider(body: nw.ProviderBody):
    return created(service.save_provider(caller(), body, create=True))


@app.get(
    "/providers/<provider>",
    summary="A provider",
    description="Any staff.",
    responses=responses(200, nw.Provider, *READ),
)
def get_provider(provider: str):
    return ok(service.get_provider(caller(), provider))


@app.put(
    "/providers/<provider>",
    summary="Change a provider",
    description="Central-office administrators.",
    responses=responses(200, nw.Provider, *WRITE, body=True),
)
def put_provider(provider: str, body: nw.ProviderBody):
    _same("provider", provider, body.code)
    return ok(service.save_provider(caller(), body, create=False))


# ---------------------------------------------------------------- staff users

STAFF_WRITE = (
    "A username is unique in the whole staff user pool: one that exists anywhere is a 409. "
    "A user is changed only under the scope it was created in."
)


@app.get(
    "/staff",
    summary="Network-wide staff users",
    description="Central-office administrators. Paged.",
    responses=responses(200, nw.Page[nw.StaffUser], *READ),
)
def list_network_staff(limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_staff(caller(), None, limit, after), next_token)


@app.post(
    "/staff",
    summary="Add a network-wide staff user",
    description=f"Central-office administrators. {STAFF_WRITE}",
    responses=responses(201, nw.StaffUser, *WRITE, body=True),
)
def create_network_staff(body: nw.StaffBody):
    return created(service.save_staff(caller(), None, body, create=True))


@app.get(
    "/staff/<username>",
    summary="A network-wide staff user",
    description="Central-office administrators.",
    responses=responses(200, nw.StaffUser, *READ),
)
def get_network_staff(username: str):
    return ok(service.get_staff(caller(), None, username))


@app.put(
    "/staff/<username>",
    summary="Change a network-wide staff user",
    description=f"Central-office administrators. {STAFF_WRITE}",
    responses=responses(200, nw.StaffUser, *WRITE, body=True),
)
def put_network_staff(username: str, body: nw.StaffBody):
    _same("staff user", username, body.username)
    return ok(service.save_staff(caller(), None, body, create=False))


@app.get(
    "/members/<member>/staff",
    summary="A member's staff users",
    description="Member administrators. Paged.",
    responses=responses(200, nw.Page[nw.StaffUser], *READ),
)
def list_member_staff(member: str, limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.list_staff(caller(), member, limit, after), next_token)


@app.post(
    "/members/<member>/staff",
    summary="Add a staff user to a member",
    description=f"Member administrators. {STAFF_WRITE}",
    responses=responses(201, nw.StaffUser, *WRITE, body=True),
)
def create_member_staff(member: str, body: nw.StaffBody):
    return created(service.save_staff(caller(), member, body, create=True))


@app.get(
    "/members/<member>/staff/<username>",
    summary="A member's staff user",
    description="Member administrators.",
    responses=responses(200, nw.StaffUser, *READ),
)
def get_member_staff(member: str, username: str):
    return ok(service.get_staff(caller(), member, username))


@app.put(
    "/members/<member>/staff/<username>",
    summary="Change roles or disable",
    description=f"Member administrators. {STAFF_WRITE}",
    responses=responses(200, nw.StaffUser, *WRITE, body=True),
)
def put_member_staff(member: str, username: str, body: nw.StaffBody):
    _same("staff user", username, body.username)
    return ok(service.save_staff(caller(), member, body, create=False))


# ---------------------------------------------------------------- audit


@app.get(
    "/audit",
    summary="Audit trail of network-level changes, or of one object (?object=type:id)",
    description="Central-office administrators; member administrators for their own objects. Newest first.",
    responses=responses(200, nw.Page[nw.AuditEntry], *READ),
)
def list_audit(
    object_ref: Annotated[
        str | None,
        Query(
            alias="object",
            max_length=200,
            description="e.g. member:lku, library:lku/main, group:network/north",
        ),
    ] = None,
    limit: Limit = 50,
    next_token: Next = None,
):
    if object_ref:
        object_type, sep, object_id = object_ref.partition(":")
        if not sep or not object_id:
            raise Problem(
                422, "invalid-object", "object must be <type>:<id>, e.g. member:lku or library:lku/main"
            )
        return paged(
            lambda after: service.audit_for_object(caller(), object_type, object_id, limit, after),
            next_token,
            object_ref,
        )
    return paged(lambda after: service.audit_for_member(caller(), None, limit, after), next_token)


@app.get(
    "/members/<member>/audit",
    summary="Audit trail of a member's data",
    description="Member administrators.",
    responses=responses(200, nw.Page[nw.AuditEntry], *READ),
)
def list_member_audit(member: str, limit: Limit = 50, next_token: Next = None):
    return paged(lambda after: service.audit_for_member(caller(), member, limit, after), next_token)


# ---------------------------------------------------------------- review queue and clusters

REASON = Field(min_length=3, max_length=1000, description="why: kept in the audit trail")


class AcceptBody(StrictModel):
    multiline = frozenset({"reason"})
    cluster_id: str = Field(max_length=100, description="the candidate cluster the record belongs to")
    reason: str = REASON


class DecisionBody(StrictModel):
    multiline = frozenset({"reason"})
    reason: str = REASON


class SplitBody(StrictModel):
    multiline = frozenset({"reason"})
    source: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]*\|.+$",
        max_length=300,
        description='the source record, "<provider>|<source id>"',
    )
    reason: str = REASON


class _View(BaseModel):
    """A response body read off a domain object's attributes of the same names."""

    @classmethod
    def of(cls, thing: object) -> Any:
        return cls(**{name: getattr(thing, name) for name in cls.model_fields})


class ReviewTaskView(_View):
    """A review task: the record that raised the question, where it sits, and the candidates."""

    task_id: str
    source: str = Field(description='"<provider>|<source id>"')
    cluster_id: str
    candidates: list[dict[str, Any]] = Field(description="cluster_id, title, score, decision, evidence")
    status: str
    created_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    decision: dict[str, Any] | None = None


class ClusterView(_View):
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


@app.get(
    "/reviews",
    summary="The review queue: uncertain matches with their evidence",
    description="Network catalogers. Paged, oldest first.",
    responses=responses(200, nw.Page[ReviewTaskView], 403),
)
def list_reviews(
    status: Annotated[str, Query(pattern="^(open|accepted|rejected)$")] = "open",
    limit: Limit = 50,
    next_token: Next = None,
):
    curator.authorize(caller())

    def page(after: str | None) -> nw.Page:
        tasks, last = catalog_store.list_tasks(status, limit, after)
        return nw.Page(items=[ReviewTaskView.of(t) for t in tasks], next=last)

    return paged(page, next_token, status)


@app.get(
    "/reviews/<task_id>",
    summary="A review task",
    description="Network catalogers.",
    responses=responses(200, ReviewTaskView, *READ),
)
def get_review(task_id: str):
    return ok(ReviewTaskView.of(curator.task(caller(), task_id)))


@app.post(
    "/reviews/<task_id>/accept",
    summary="Merge the record into the chosen candidate",
    description="Network catalogers.",
    responses=responses(200, ReviewTaskView, *WRITE, body=True),
)
def accept_review(task_id: str, body: AcceptBody):
    return ok(ReviewTaskView.of(curator.accept(caller(), task_id, body.cluster_id, body.reason)))


@app.post(
    "/reviews/<task_id>/reject",
    summary="Keep the record apart from the candidates",
    description="Network catalogers.",
    responses=responses(200, ReviewTaskView, *WRITE, body=True),
)
def reject_review(task_id: str, body: DecisionBody):
    return ok(ReviewTaskView.of(curator.reject(caller(), task_id, body.reason)))


@app.get(
    "/clusters/<cluster_id>",
    summary="A cluster: its sources, match keys and field provenance",
    description="Network catalogers.",
    responses=responses(200, ClusterView, *READ),
)
def get_cluster(cluster_id: str):
    return ok(ClusterView.of(curator.cluster(caller(), cluster_id)))


@app.post(
    "/clusters/<cluster_id>/split",
    summary="Unmerge: split a source record out into its own cluster",
    description="Network catalogers.",
    responses=responses(200, SplitView, *WRITE, body=True),
)
def split_cluster(cluster_id: str, body: SplitBody):
    stays, new = curator.split(caller(), cluster_id, body.source, body.reason)
    return ok(SplitView(cluster=ClusterView.of(stays), split_into=ClusterView.of(new)))


@app.get(
    "/clusters/<cluster_id>/audit",
    summary="Decisions about a cluster",
    description="Network catalogers. Newest first.",
    responses=responses(200, nw.Page[dict[str, Any]], *READ),
)
def cluster_audit(cluster_id: str, limit: Limit = 50, next_token: Next = None):
    curator.authorize(caller())

    def page(after: str | None) -> nw.Page:
        items, last = catalog_store.audit_page(f"OBJECT#cluster#{cluster_id}", limit, after)
        return nw.Page(items=items, next=last)

    return paged(page, next_token)


# ---------------------------------------------------------------- OpenAPI and errors


@app.get("/openapi.json", summary="This API's OpenAPI document", include_in_schema=False)
def openapi():
    return Response(
        200, "application/json", app.get_openapi_json_schema(title="netzone network API", version="1")
    )


def _same(what: str, in_path: str, in_body: str) -> None:
    if in_path != in_body:
        raise Problem(
            422, "code-mismatch", f"the {what} in the path ({in_path}) and in the body ({in_body}) differ"
        )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
