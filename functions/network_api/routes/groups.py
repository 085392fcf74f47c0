"""Groups of members or libraries: the network's own (owner "network"), and each member's."""

from __future__ import annotations

from network_api.routing import Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()
NETWORK, MEMBER = "Central-office administrators.", "Member administrators."


@router.lists("/groups", "Network groups", "Any staff.", nw.Group)
def list_network_groups(limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_groups, "network", limit=limit, next_token=next_token)


@router.creates("/groups", "Add a network group", NETWORK, nw.Group)
def create_network_group(body: nw.GroupBody):
    return created(router.network.save_group(router.caller(), "network", body, create=True))


@router.reads("/groups/<group>", "A network group", "Any staff.", nw.Group)
def get_network_group(group: str):
    return ok(router.network.get_group(router.caller(), "network", group))


@router.changes("/groups/<group>", "Change a network group", NETWORK, nw.Group)
def put_network_group(group: str, body: nw.GroupBody):
    return _save(group, "network", body)


@router.lists("/members/<member>/groups", "A member's own groups", "The member's staff.", nw.Group)
def list_member_groups(member: str, limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_groups, member, limit=limit, next_token=next_token)


@router.creates("/members/<member>/groups", "Add a member group", MEMBER, nw.Group)
def create_member_group(member: str, body: nw.GroupBody):
    return created(router.network.save_group(router.caller(), member, body, create=True))


@router.reads("/members/<member>/groups/<group>", "A member group", "The member's staff.", nw.Group)
def get_member_group(member: str, group: str):
    return ok(router.network.get_group(router.caller(), member, group))


@router.changes("/members/<member>/groups/<group>", "Change a member group", MEMBER, nw.Group)
def put_member_group(member: str, group: str, body: nw.GroupBody):
    return _save(group, member, body)


def _save(group: str, owner: str, body: nw.GroupBody):
    same("group", group, body.code)
    return ok(router.network.save_group(router.caller(), owner, body, create=False))
