"""Member institutions: who belongs to the consortium, their status and import permissions."""

from __future__ import annotations

from api_edge import responses

from network_api.routing import READ, WRITE, Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()


@router.get(
    "/members",
    summary="List member institutions",
    description="Any staff. Paged.",
    responses=responses(200, nw.Page[nw.Member], *READ),
)
def list_members(limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(lambda after: network.list_members(router.caller(), limit, after), next_token)


@router.post(
    "/members",
    summary="Add a member institution",
    description="Central-office administrators.",
    responses=responses(201, nw.Member, *WRITE, body=True),
)
def create_member(body: nw.MemberBody):
    return created(router.services.network.save_member(router.caller(), body, create=True))


@router.get(
    "/members/<member>",
    summary="A member institution",
    description="Any staff.",
    responses=responses(200, nw.Member, *READ),
)
def get_member(member: str):
    return ok(router.services.network.get_member(router.caller(), member))


@router.put(
    "/members/<member>",
    summary="Change a member (status, contact, import permissions)",
    description="Central-office administrators. Send the version you read.",
    responses=responses(200, nw.Member, *WRITE, body=True),
)
def put_member(member: str, body: nw.MemberBody):
    same("member", member, body.code)
    return ok(router.services.network.save_member(router.caller(), body, create=False))
