"""Staff users: network-wide ones and each member's, kept in the directory and the user pool."""

from __future__ import annotations

from api_edge import responses

from network_api.routing import READ, WRITE, Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()

STAFF_WRITE = (
    "A username is unique in the whole staff user pool: one that exists anywhere is a 409. "
    "A user is changed only under the scope it was created in."
)


@router.get(
    "/staff",
    summary="Network-wide staff users",
    description="Central-office administrators. Paged.",
    responses=responses(200, nw.Page[nw.StaffUser], *READ),
)
def list_network_staff(limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(lambda after: network.list_staff(router.caller(), None, limit, after), next_token)


@router.post(
    "/staff",
    summary="Add a network-wide staff user",
    description=f"Central-office administrators. {STAFF_WRITE}",
    responses=responses(201, nw.StaffUser, *WRITE, body=True),
)
def create_network_staff(body: nw.StaffBody):
    return created(router.services.network.save_staff(router.caller(), None, body, create=True))


@router.get(
    "/staff/<username>",
    summary="A network-wide staff user",
    description="Central-office administrators.",
    responses=responses(200, nw.StaffUser, *READ),
)
def get_network_staff(username: str):
    return ok(router.services.network.get_staff(router.caller(), None, username))


@router.put(
    "/staff/<username>",
    summary="Change a network-wide staff user",
    description=f"Central-office administrators. {STAFF_WRITE}",
    responses=responses(200, nw.StaffUser, *WRITE, body=True),
)
def put_network_staff(username: str, body: nw.StaffBody):
    same("staff user", username, body.username)
    return ok(router.services.network.save_staff(router.caller(), None, body, create=False))


@router.get(
    "/members/<member>/staff",
    summary="A member's staff users",
    description="Member administrators. Paged.",
    responses=responses(200, nw.Page[nw.StaffUser], *READ),
)
def list_member_staff(member: str, limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(lambda after: network.list_staff(router.caller(), member, limit, after), next_token)


@router.post(
    "/members/<member>/staff",
    summary="Add a staff user to a member",
    description=f"Member administrators. {STAFF_WRITE}",
    responses=responses(201, nw.StaffUser, *WRITE, body=True),
)
def create_member_staff(member: str, body: nw.StaffBody):
    return created(router.services.network.save_staff(router.caller(), member, body, create=True))


@router.get(
    "/members/<member>/staff/<username>",
    summary="A member's staff user",
    description="Member administrators.",
    responses=responses(200, nw.StaffUser, *READ),
)
def get_member_staff(member: str, username: str):
    return ok(router.services.network.get_staff(router.caller(), member, username))


@router.put(
    "/members/<member>/staff/<username>",
    summary="Change roles or disable",
    description=f"Member administrators. {STAFF_WRITE}",
    responses=responses(200, nw.StaffUser, *WRITE, body=True),
)
def put_member_staff(member: str, username: str, body: nw.StaffBody):
    same("staff user", username, body.username)
    return ok(router.services.network.save_staff(router.caller(), member, body, create=False))
