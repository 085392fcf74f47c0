"""The audit trail of network-level changes: of the network, of a member, of one object."""

from __future__ import annotations

from typing import Annotated

from api_edge import responses
from aws_lambda_powertools.event_handler.openapi.params import Query

from network_api.routing import READ, Limit, NetworkRouter, Next
from netzone import network as nw
from netzone.errors import Invalid

router = NetworkRouter()

ObjectRef = Annotated[
    str | None,
    Query(
        alias="object", max_length=200, description="e.g. member:lku, library:lku/main, group:network/north"
    ),
]


@router.get(
    "/audit",
    summary="Audit trail of network-level changes, or of one object (?object=type:id)",
    description="Central-office administrators; member administrators for their own objects. Newest first.",
    responses=responses(200, nw.Page[nw.AuditEntry], *READ),
)
def list_audit(object_ref: ObjectRef = None, limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    if not object_ref:
        return router.paged(
            lambda after: network.audit_for_member(router.caller(), None, limit, after), next_token
        )
    object_type, sep, object_id = object_ref.partition(":")
    if not sep or not object_id:
        raise Invalid("invalid-object", "object must be <type>:<id>, e.g. member:lku or library:lku/main")
    return router.paged(
        lambda after: network.audit_for_object(router.caller(), object_type, object_id, limit, after),
        next_token,
        object_ref,
    )


@router.get(
    "/members/<member>/audit",
    summary="Audit trail of a member's data",
    description="Member administrators.",
    responses=responses(200, nw.Page[nw.AuditEntry], *READ),
)
def list_member_audit(member: str, limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(
        lambda after: network.audit_for_member(router.caller(), member, limit, after), next_token
    )
