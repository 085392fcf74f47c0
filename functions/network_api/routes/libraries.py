"""Libraries, campuses and communities: a member's own, and all of the network's."""

from __future__ import annotations

from api_edge import responses

from network_api.routing import READ, WRITE, Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()


@router.get(
    "/libraries",
    summary="All libraries of the network",
    description="Network-scoped staff. Paged.",
    responses=responses(200, nw.Page[nw.Library], *READ),
)
def list_all_libraries(limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(lambda after: network.list_all_libraries(router.caller(), limit, after), next_token)


@router.get(
    "/members/<member>/libraries",
    summary="A member's libraries and campuses",
    description="The member's staff. Paged.",
    responses=responses(200, nw.Page[nw.Library], *READ),
)
def list_libraries(member: str, limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(
        lambda after: network.list_libraries(router.caller(), member, limit, after), next_token
    )


@router.post(
    "/members/<member>/libraries",
    summary="Add a library, campus or community",
    description="Member administrators.",
    responses=responses(201, nw.Library, *WRITE, body=True),
)
def create_library(member: str, body: nw.LibraryBody):
    return created(router.services.network.save_library(router.caller(), member, body, create=True))


@router.get(
    "/members/<member>/libraries/<library>",
    summary="A library",
    description="The member's staff.",
    responses=responses(200, nw.Library, *READ),
)
def get_library(member: str, library: str):
    return ok(router.services.network.get_library(router.caller(), member, library))


@router.put(
    "/members/<member>/libraries/<library>",
    summary="Change a library",
    description="Member administrators.",
    responses=responses(200, nw.Library, *WRITE, body=True),
)
def put_library(member: str, library: str, body: nw.LibraryBody):
    same("library", library, body.code)
    return ok(router.services.network.save_library(router.caller(), member, body, create=False))
