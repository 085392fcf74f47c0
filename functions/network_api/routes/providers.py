"""Content providers: who may feed the network, in which formats, at which merge priority."""

from __future__ import annotations

from api_edge import responses

from network_api.routing import READ, WRITE, Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()


@router.get(
    "/providers",
    summary="Content providers",
    description="Any staff. Paged.",
    responses=responses(200, nw.Page[nw.Provider], *READ),
)
def list_providers(limit: Limit = 50, next_token: Next = None):
    network = router.services.network
    return router.paged(lambda after: network.list_providers(router.caller(), limit, after), next_token)


@router.post(
    "/providers",
    summary="Register a provider",
    description="Central-office administrators.",
    responses=responses(201, nw.Provider, *WRITE, body=True),
)
def create_provider(body: nw.ProviderBody):
    return created(router.services.network.save_provider(router.caller(), body, create=True))


@router.get(
    "/providers/<provider>",
    summary="A provider",
    description="Any staff.",
    responses=responses(200, nw.Provider, *READ),
)
def get_provider(provider: str):
    return ok(router.services.network.get_provider(router.caller(), provider))


@router.put(
    "/providers/<provider>",
    summary="Change a provider",
    description="Central-office administrators.",
    responses=responses(200, nw.Provider, *WRITE, body=True),
)
def put_provider(provider: str, body: nw.ProviderBody):
    same("provider", provider, body.code)
    return ok(router.services.network.save_provider(router.caller(), body, create=False))
