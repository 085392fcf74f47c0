"""The consortium: one per network."""

from __future__ import annotations

from network_api.routing import NetworkRouter, ok
from netzone import network as nw

router = NetworkRouter()


@router.reads("/network", "The consortium", "Any staff.", nw.Consortium)
def get_network():
    return ok(router.network.get_consortium(router.caller()))


@router.changes(
    "/network", "Create or change the consortium", "Central-office administrators.", nw.Consortium
)
def put_network(body: nw.ConsortiumBody):
    return ok(router.network.put_consortium(router.caller(), body))
