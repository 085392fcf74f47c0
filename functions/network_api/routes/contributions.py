"""Contributions: member libraries' own records, filed under the same matching as provider feeds."""

from __future__ import annotations

from network_api.routing import NetworkRouter, ok
from netzone.contributions import Contribution, ContributionBody, contribute

router = NetworkRouter()


@router.acts(
    "/contributions",
    "Contribute records to the network",
    (
        "Member administrators and catalogers of a member with import permission (bibliographic or "
        "authority). Up to 50 MARC-in-JSON records, filed under the same matching as provider feeds; "
        "one invalid record rejects the whole contribution (422, a reason per record) before any is "
        "filed. Sending it again changes nothing and reports the same outcomes."
    ),
    Contribution,
)
def post_contribution(body: ContributionBody):
    services = router.services
    return ok(contribute(router.caller(), body, services.network, services.filer))
