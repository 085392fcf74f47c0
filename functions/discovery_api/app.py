"""discovery_api: network records and feed job status over API Gateway (REST).

GET /bibs/{id}                  the network record, MARCXML or MARC-in-JSON by Accept
GET /bibs/{id}/portfolios       its active electronic portfolios (from KBART feeds), JSON
GET /sources/{provider}/{id}    the network record that holds a provider's source record
GET /feeds/jobs/{id}            a feed job: status, counts by outcome, the first rejects

The routes are `discovery_api/routes.py`; the network API's /openapi.json documents them too.
"""

from __future__ import annotations

from api_edge import ApiResolver
from wiring import Wiring

from discovery_api.routes import router
from netzone.discovery import Discovery
from netzone.settings import DiscoverySettings

wiring = Wiring(DiscoverySettings())
discovery = Discovery(catalog=wiring.catalog, portfolios=wiring.portfolios, jobs=wiring.jobs)
app = ApiResolver()
app.include_router(router)
handler = wiring.api_handler(app, discovery=discovery)
