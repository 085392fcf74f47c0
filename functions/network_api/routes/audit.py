"""The audit trail of network-level changes: of the network, of a member, of one object."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from network_api.routing import Limit, NetworkRouter, Next
from netzone import network as nw
from netzone.errors import Invalid

router = NetworkRouter()

ObjectRef = Annotated[
    str | None,
    Query(
        alias="object", max_length=200, description="e.g. member:lku, library:lku/main, group:network/north"
    ),
]


@router.lists(
    "/audit",
    "Audit trail of network-level changes, or of one object (?object=type:id)",
    "Central-office administrators; member administrators for their own objects. Newest first.",
    nw.AuditEntry,
)
def list_audit(object_ref: ObjectRef = None, limit: Limit = 50, next_token: Next = None):
    network = router.network
    if not object_ref:
        return router.page(network.audit_for_member, None, limit=limit, next_token=next_token)
    object_type, sep, object_id = object_ref.partition(":")
    if not sep or not object_id:
        raise Invalid("invalid-object", "object must be <type>:<id>, e.g. member:lku or library:lku/main")
    return router.paged(
        lambda after: network.audit_for_object(router.caller(), object_type, object_id, limit, after),
        next_token,
        object_ref,
    )


@router.lists(
    "/members/<member>/audit", "Audit trail of a member's data", "Member administrators.", nw.AuditEntry
)
def list_member_audit(member: str, limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.audit_for_member, member, limit=limit, next_token=next_token)
