"""Libraries, campuses and communities: a member's own, and all of the network's."""

from __future__ import annotations

from network_api.routing import Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()
ONE = "/members/<member>/libraries/<library>"


@router.lists("/libraries", "All libraries of the network", "Network-scoped staff.", nw.Library)
def list_all_libraries(limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_all_libraries, limit=limit, next_token=next_token)


@router.lists(
    "/members/<member>/libraries", "A member's libraries and campuses", "The member's staff.", nw.Library
)
def list_libraries(member: str, limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_libraries, member, limit=limit, next_token=next_token)


@router.creates(
    "/members/<member>/libraries", "Add a library, campus or community", "Member administrators.", nw.Library
)
def create_library(member: str, body: nw.LibraryBody):
    return created(router.network.save_library(router.caller(), member, body, create=True))


@router.reads(ONE, "A library", "The member's staff.", nw.Library)
def get_library(member: str, library: str):
    return ok(router.network.get_library(router.caller(), member, library))


@router.changes(ONE, "Change a library", "Member administrators.", nw.Library)
def put_library(member: str, library: str, body: nw.LibraryBody):
    same("library", library, body.code)
    return ok(router.network.save_library(router.caller(), member, body, create=False))
