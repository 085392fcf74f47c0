"""Groups of members or libraries: the network's own, and each member's."""

from __future__ import annotations

from api_edge import responses

from network_api.routing import READ, WRITE, Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()


@router.get(
    "/groups",
    summary="Network groups",
    description="Any staff. Paged.",
    responses=responses(200, nw.Page[nw.Group], *READ),
)
def list_network_groups(limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(
        lambda after: network.list_groups(router.caller(), "network", limit, after), next_token
    )


@router.post(
    "/groups",
    summary="Add a network group",
    description="Central-office administrators.",
    responses=responses(201, nw.Group, *WRITE, body=True),
)
def create_network_group(body: nw.GroupBody):
    return created(router.services.network.save_group(router.caller(), "network", body, create=True))


@router.get(
    "/groups/<group>",
    summary="A network group",
    description="Any staff.",
    responses=responses(200, nw.Group, *READ),
)
def get_network_group(group: str):
    return ok(router.services.network.get_group(router.caller(), "network", group))


@router.put(
    "/groups/<group>",
    summary="Change a network group",
    description="Central-office administrators.",
    responses=responses(200, nw.Group, *WRITE, body=True),
)
def put_network_group(group: str, body: nw.GroupBody):
    same("group", group, body.code)
    return ok(router.services.network.save_group(router.caller(), "network", body, create=False))


@router.get(
    "/members/<member>/groups",
    summary="A member's own groups",
    description="The member's staff. Paged.",
    responses=responses(200, nw.Page[nw.Group], *READ),
)
def list_member_groups(member: str, limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(lambda after: network.list_groups(router.caller(), member, limit, after), next_token)


@router.post(
    "/members/<member>/groups",
    summary="Add a member group",
    description="Member administrators.",
    responses=responses(201, nw.Group, *WRITE, body=True),
)
def create_member_group(member: str, body: nw.GroupBody):
    return created(router.services.network.save_group(router.caller(), member, body, create=True))


@router.get(
    "/members/<member>/groups/<group>",
    summary="A member group",
    description="The member's staff.",
    responses=responses(200, nw.Group, *READ),
)
def get_member_group(member: str, group: str):
    return ok(router.services.network.get_group(router.caller(), member, group))


@router.put(
    "/members/<member>/groups/<group>",
    summary="Change a member group",
    description="Member administrators.",
    responses=responses(200, nw.Group, *WRITE, body=True),
)
def put_member_group(member: str, group: str, body: nw.GroupBody):
    same("group", group, body.code)
    return ok(router.services.network.save_group(router.caller(), member, body, create=False))
