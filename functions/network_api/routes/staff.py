"""Staff users: network-wide ones (no member) and each member's, kept in the directory and the user pool."""

from __future__ import annotations

from network_api.routing import Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()

NETWORK, MEMBER = "Central-office administrators.", "Member administrators."
UNIQUE = (
    " A username is unique in the whole staff user pool: one that exists anywhere is a 409."
    " A user is changed only under the scope it was created in."
)


@router.lists("/staff", "Network-wide staff users", NETWORK, nw.StaffUser)
def list_network_staff(limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_staff, None, limit=limit, next_token=next_token)


@router.creates("/staff", "Add a network-wide staff user", NETWORK + UNIQUE, nw.StaffUser)
def create_network_staff(body: nw.StaffBody):
    return created(router.network.save_staff(router.caller(), None, body, create=True))


@router.reads("/staff/<username>", "A network-wide staff user", NETWORK, nw.StaffUser)
def get_network_staff(username: str):
    return ok(router.network.get_staff(router.caller(), None, username))


@router.changes("/staff/<username>", "Change a network-wide staff user", NETWORK + UNIQUE, nw.StaffUser)
def put_network_staff(username: str, body: nw.StaffBody):
    return _save(None, username, body)


@router.lists("/members/<member>/staff", "A member's staff users", MEMBER, nw.StaffUser)
def list_member_staff(member: str, limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_staff, member, limit=limit, next_token=next_token)


@router.creates("/members/<member>/staff", "Add a staff user to a member", MEMBER + UNIQUE, nw.StaffUser)
def create_member_staff(member: str, body: nw.StaffBody):
    return created(router.network.save_staff(router.caller(), member, body, create=True))


@router.reads("/members/<member>/staff/<username>", "A member's staff user", MEMBER, nw.StaffUser)
def get_member_staff(member: str, username: str):
    return ok(router.network.get_staff(router.caller(), member, username))


@router.changes(
    "/members/<member>/staff/<username>", "Change roles or disable", MEMBER + UNIQUE, nw.StaffUser
)
def put_member_staff(member: str, username: str, body: nw.StaffBody):
    return _save(member, username, body)


def _save(member: str | None, username: str, body: nw.StaffBody):
    same("staff user", username, body.username)
    return ok(router.network.save_staff(router.caller(), member, body, create=False))
