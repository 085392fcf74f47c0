"""The consortium: one per network."""

from __future__ import annotations

from api_edge import responses

from network_api.routing import READ, WRITE, NetworkRouter, ok
from netzone import network as nw

router = NetworkRouter()


@router.get(
    "/network",
    summary="The consortium",
    description="Any staff.",
    responses=responses(200, nw.Consortium, *READ),
)
def get_network():
    return ok(router.services.network.get_consortium(router.caller()))


@router.put(
    "/network",
    summary="Create or change the consortium",
    description="Central-office administrators.",
    responses=responses(200, nw.Consortium, *WRITE, body=True),
)
def put_network(body: nw.ConsortiumBody):
    return ok(router.services.network.put_consortium(router.caller(), body))
