"""Member institutions: who belongs to the consortium, their status and import permissions."""

from __future__ import annotations

from network_api.routing import Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()
ADMINS = "Central-office administrators."


@router.lists("/members", "List member institutions", "Any staff.", nw.Member)
def list_members(limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_members, limit=limit, next_token=next_token)


@router.creates("/members", "Add a member institution", ADMINS, nw.Member)
def create_member(body: nw.MemberBody):
    return created(router.network.save_member(router.caller(), body, create=True))


@router.reads("/members/<member>", "A member institution", "Any staff.", nw.Member)
def get_member(member: str):
    return ok(router.network.get_member(router.caller(), member))


@router.changes(
    "/members/<member>",
    "Change a member (status, contact, import permissions)",
    f"{ADMINS} Send the version you read.",
    nw.Member,
)
def put_member(member: str, body: nw.MemberBody):
    same("member", member, body.code)
    return ok(router.network.save_member(router.caller(), body, create=False))
