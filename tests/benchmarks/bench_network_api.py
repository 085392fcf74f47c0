"""Network API figures: requests per second for list and get routes, handler in-process under moto.

Builds the stack from template.yaml in moto's in-process mock, creates 30 members with 10
libraries each (300 libraries) through the handler as a central-office administrator, then
times each route: the full handler path (API Gateway event -> Powertools resolver -> domain ->
DynamoDB adapter -> moto). moto is the bottleneck here, not the handler: these figures bound the
local stack, not AWS.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import ROOT  # paths, dummy credentials, quiet Powertools: before boto3 and moto

# isort: split
import moto

from local import moto_server
from local.template import deploy, load_template

CENTRAL = {"cognito:username": "central", "cognito:groups": "[central_admin]", "token_use": "id"}
MEMBERS, LIBRARIES = 30, 10


class Context:
    function_name = "NetworkApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:NetworkApiFunction"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def caller(handler):
    """Invoke the handler with the API Gateway event of events/, as after the Cognito authorizer."""
    template = json.loads((ROOT / "events" / "network_api_post_member.json").read_text())

    def call(method: str, path: str, claims: dict, body: dict | None = None, query: dict | None = None):
        event = json.loads(json.dumps(template))
        event.update(httpMethod=method, path=path, resource=path, body=json.dumps(body) if body else None)
        event.update(
            queryStringParameters=query,
            multiValueQueryStringParameters={k: [v] for k, v in (query or {}).items()},
        )
        event["requestContext"]["authorizer"]["claims"] = claims
        response = handler(event, Context())
        return response["statusCode"], json.loads(response["body"])

    return call


def main() -> None:
    moto_server.apply()  # moto's transactions otherwise copy whole tables (see infra/local/moto_server.py)
    with moto.mock_aws():
        deployment = deploy(load_template(ROOT / "template.yaml"))
        os.environ.update(
            {
                k: v
                for k, v in deployment.env_for("NetworkApiFunction").items()
                if not k.startswith("POWERTOOLS")
            }
        )
        call = caller(importlib.import_module("network_api.app").handler)

        started = time.perf_counter()
        for m in range(MEMBERS):
            code = f"m{m:02d}"
            assert call("POST", "/members", CENTRAL, {"code": code, "name": f"Member {m}"})[0] == 201
            for n in range(LIBRARIES):
                body = {"code": f"l{n:02d}", "name": f"Library {m}.{n}"}
                assert call("POST", f"/members/{code}/libraries", CENTRAL, body)[0] == 201
        writes = MEMBERS * (LIBRARIES + 1)
        elapsed = time.perf_counter() - started
        print(
            f"created {MEMBERS} members and {MEMBERS * LIBRARIES} libraries: {writes / elapsed:,.0f} writes/s"
        )

        seen, token = 0, None
        while True:
            status, page = call(
                "GET", "/libraries", CENTRAL, None, {"limit": "50", **({"next": token} if token else {})}
            )
            assert status == 200
            seen += len(page["items"])
            token = page.get("next")
            if not token:
                break
        print(f"GET /libraries page by page (limit 50): {seen} libraries listed")

        routes = [
            ("GET /members?limit=50", "/members", {"limit": "50"}),
            ("GET /members/{member}", "/members/m07", None),
            ("GET /members/{member}/libraries", "/members/m07/libraries", None),
            ("GET /members/{member}/libraries/{library}", "/members/m07/libraries/l03", None),
            ("GET /libraries?limit=50", "/libraries", {"limit": "50"}),
        ]
        print(f"  {'route':<44} {'requests/s':>10} {'ms/request':>11}")
        for label, path, query in routes:
            count = 300
            started = time.perf_counter()
            for _ in range(count):
                status, _ = call("GET", path, CENTRAL, None, query)
                assert status == 200
            elapsed = time.perf_counter() - started
            print(f"  {label:<44} {count / elapsed:>10,.0f} {1000 * elapsed / count:>11.2f}")
        print(json.dumps({"members": MEMBERS, "libraries": MEMBERS * LIBRARIES, "listed": seen}))


if __name__ == "__main__":
    main()
