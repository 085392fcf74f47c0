"""Content providers: who may feed the network, in which formats, at which merge priority."""

from __future__ import annotations

from network_api.routing import Limit, NetworkRouter, Next, created, ok, same
from netzone import network as nw

router = NetworkRouter()
ADMINS = "Central-office administrators."


@router.lists("/providers", "Content providers", "Any staff.", nw.Provider)
def list_providers(limit: Limit = 50, next_token: Next = None):
    return router.page(router.network.list_providers, limit=limit, next_token=next_token)


@router.creates("/providers", "Register a provider", ADMINS, nw.Provider)
def create_provider(body: nw.ProviderBody):
    return created(router.network.save_provider(router.caller(), body, create=True))


@router.reads("/providers/<provider>", "A provider", "Any staff.", nw.Provider)
def get_provider(provider: str):
    return ok(router.network.get_provider(router.caller(), provider))


@router.changes("/providers/<provider>", "Change a provider", ADMINS, nw.Provider)
def put_provider(provider: str, body: nw.ProviderBody):
    same("provider", provider, body.code)
    return ok(router.network.save_provider(router.caller(), body, create=False))
