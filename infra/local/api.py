"""The REST API, locally: HTTP on 127.0.0.1 → API Gateway REST (v1) proxy events → the function.

Routes come from the functions' `Api` events (`/bibs/{id}` parameters, `{proxy+}` greedy paths,
`ANY` methods); the most specific route wins, as in API Gateway. A route with a Cognito
authorizer (`local.authorizer`) checks the request's token first: a refused request gets the
Api's UNAUTHORIZED gateway response and the function is not invoked; an accepted one carries the
token's claims in `requestContext.authorizer.claims`. The handler's proxy response (statusCode,
headers, multiValueHeaders, body, isBase64Encoded) becomes the HTTP response. A request no route
matches gets a 404 problem body; `GET /` lists the routes (local only). Paths may carry the stage
prefix of the deployed URL (`/v1/bibs/...`) or not.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from local.authorizer import (
    Authorizer,
    CognitoVerifier,
    Unauthorized,
    authorizer_for,
    gateway_claims,
    gateway_response,
)

if TYPE_CHECKING:
    from local.mailbox import Mailbox
    from local.template import Deployment, Resource
    from local.worker import Worker

log = logging.getLogger("local.api")

_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
LOCAL_PAGES = ("/_local/mailbox", "/_local/mailbox.json")  # the local stack's own, never on AWS


@dataclass
class Route:
    method: str  # an HTTP method or ANY
    path: str  # the resource path as written in the template: /bibs/{id}
    function: str  # logical id
    api_id: str
    stage: str
    authorizer: Authorizer | None = None  # None: a public route

    def match(self, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """(specificity, path parameters) when `path` fits this resource, else None."""
        pattern = [segment for segment in self.path.split("/") if segment]
        parts = [segment for segment in path.split("/") if segment]
        score: list[int] = []
        parameters: dict[str, str] = {}
        for index, segment in enumerate(pattern):
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            if greedy:
                if index >= len(parts):
                    return None
                parameters[greedy.group(1)] = "/".join(parts[index:])
                return (*score, 0), parameters
            if index >= len(parts):
                return None
            named = re.fullmatch(r"\{(\w+)\}", segment)
            if named:
                parameters[named.group(1)] = parts[index]
                score.append(1)
            elif segment == parts[index]:
                score.append(2)
            else:
                return None
        if len(parts) != len(pattern):
            return None
        return (*score, 3), parameters  # an exact-length match beats a greedy one


def apis_of(deployment: Deployment) -> dict[str, Resource]:
    """api id -> the AWS::Serverless::Api resource (its resolved properties: Auth, GatewayResponses)."""
    return {
        resource.ref: resource
        for resource in deployment.resources.values()
        if resource.type == "AWS::Serverless::Api"
    }


def routes_from(deployment: Deployment) -> list[Route]:
    """One route per Api event, with the authorizer SAM would attach (TemplateError if unenforceable)."""
    apis = apis_of(deployment)
    routes = []
    for function in deployment.functions.values():
        for event in function.events.values():
            if event.type != "Api":
                continue
            api_id = event.properties["RestApiId"]
            api = apis.get(api_id)
            properties = api.properties if api is not None else {}
            routes.append(
                Route(
                    method=str(event.properties["Method"]).upper(),
                    path="/" + str(event.properties["Path"]).strip("/"),
                    function=function.logical_id,
                    api_id=api_id,
                    stage=str(properties.get("StageName", "Prod")),
                    authorizer=authorizer_for(
                        api.logical_id if api else api_id,
                        properties,
                        f"{function.logical_id}.Events.{event.name}",
                        event.properties,
                    ),
                )
            )
    return routes


def problem(status: int, title: str, code: str, detail: str) -> Response:
    body = {
        "type": f"https://netzone.dev/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    return Response(json.dumps(body), status=status, content_type="application/problem+json")


class ApiServer:
    """A threaded werkzeug server; each function's worker still runs one request at a time."""

    def __init__(
        self,
        routes: list[Route],
        workers: dict[str, Worker],
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        api_properties: dict[str, dict] | None = None,
        verifier: CognitoVerifier | None = None,
        mailbox: Mailbox | None = None,
    ):
        self.routes = routes
        self.mailbox = mailbox
        self.workers = workers
        self.api_properties = api_properties or {}  # api id -> Auth, GatewayResponses, ...
        self.verifier = verifier
        if verifier is None and any(route.authorizer for route in routes):
            raise ValueError("routes with an authorizer need a CognitoVerifier")
        self.host = host
        self.port = port
        self.region = region
        self.account_id = account_id
        self.requests = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._server = make_server(self.host, self.port, self.wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        started = time.perf_counter()
        response = self.handle(request)
        self.requests += 1
        log.info(
            "%s %s -> %d (%.0f ms)",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response(environ, start_response)

    # -- routing

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        best: tuple[tuple, Route, dict[str, str]] | None = None
        for route in self.routes:
            if route.method not in (method, "ANY"):
                continue
            found = route.match(path)
            if found is None:
                continue
            specificity = (*found[0], route.method == method)
            if best is None or specificity > best[0]:
                best = (specificity, route, found[1])
        return (best[1], best[2]) if best else None

    def methods_for(self, path: str) -> list[str]:
        """The API Gateway methods some route takes on `path` (ANY: all of them)."""
        methods: set[str] = set()
        for route in self.routes:
            if route.match(path) is not None:
                methods.update(_METHODS if route.method == "ANY" else (route.method,))
        return sorted(methods)

    def handle(self, request: Request) -> Response:
        method, path = request.method.upper(), request.path
        found = self.find(method, path)
        if found is None:
            # The deployed URL carries the stage (/v1/...); accept it locally as well.
            parts = path.split("/", 2)
            stages = {route.stage for route in self.routes}
            if len(parts) > 2 and parts[1] in stages:
                path = "/" + parts[2]
                found = self.find(method, path)
        if found is None or method not in _METHODS:
            if method == "GET" and path in ("", "/"):
                return self.index()
            if method == "GET" and path in LOCAL_PAGES and self.mailbox is not None:
                return self.mailbox_page(path)
            allowed = self.methods_for(path)
            if not allowed:
                return problem(404, "Not Found", "no-such-route", f"No route {method} {request.path}")
            # The resource exists, the method does not: 405 with Allow (RFC 9110). API Gateway
            # itself answers 403 MissingAuthenticationToken here, which names nothing useful.
            refusal = problem(
                405, "Method Not Allowed", "method-not-allowed", f"{method} is not a method of {path}"
            )
            refusal.headers["Allow"] = ", ".join(allowed)
            return refusal
        route, parameters = found
        event = self.event(request, route, path, parameters)
        if route.authorizer is not None:
            try:
                claims = self.verifier.verify(request.headers.get(route.authorizer.header), route.authorizer)  # type: ignore[union-attr]
            except Unauthorized as refusal:
                log.info(
                    "%s %s: %s refused the token: %s", method, path, route.authorizer.name, refusal.reason
                )
                return self.unauthorized(
                    route, refusal.message, event["requestContext"]["requestId"], request
                )
            except Exception:  # the pool's keys or clients could not be read: API Gateway's 500
                log.exception("%s %s: authorizer %s failed", method, path, route.authorizer.name)
                return Response(
                    json.dumps({"message": None}),
                    status=500,
                    content_type="application/json",
                    headers={"x-amzn-ErrorType": "AuthorizerConfigurationException"},
                )
            event["requestContext"]["authorizer"] = {
                "claims": gateway_claims(claims),
                "principalId": str(claims.get("sub", "")),
            }
        invocation = self.workers[route.function].invoke(event)
        if not invocation.ok:
            log.warning("%s %s: %s", method, path, invocation.error_message)
            return self._bad_gateway()
        return self.response(invocation.result)

    def unauthorized(self, route: Route, message: str, request_id: str, request: Request) -> Response:
        status, headers, body = gateway_response(
            self.api_properties.get(route.api_id, {}),
            "UNAUTHORIZED",
            message,
            request_id=request_id,
            request_headers=dict(request.headers.items()),
        )
        response = Response(body, status=status)
        response.headers.pop("Content-Type", None)
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def mailbox_page(self, path: str) -> Response:
        """What Cognito would have sent (local.mailbox): a page, or JSON newest last."""
        assert self.mailbox is not None
        if path.endswith(".json"):
            messages, _ = self.mailbox.messages()
            return Response(json.dumps({"messages": messages}), content_type="application/json")
        return Response(self.mailbox.page(), content_type="text/html; charset=utf-8")

    def index(self) -> Response:
        body = {
            "api": "netzone (local)",
            "mailbox": sorted(LOCAL_PAGES) if self.mailbox is not None else [],
            "routes": [
                {
                    "method": route.method,
                    "path": route.path,
                    "function": route.function,
                    "stage": route.stage,
                    "authorizer": route.authorizer.name if route.authorizer else None,
                }
                for route in sorted(self.routes, key=lambda route: (route.path, route.method))
            ],
        }
        return Response(json.dumps(body, indent=2), content_type="application/json")

    # -- HTTP → event → HTTP

    def event(self, request: Request, route: Route, path: str, parameters: dict[str, str]) -> dict:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        query = {key: values[-1] for key, values in request.args.lists()}
        multi_query = dict(request.args.lists())
        raw = request.get_data(cache=False)
        body: str | None = None
        encoded = False
        if raw:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                body, encoded = base64.b64encode(raw).decode(), True
        now = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": request.method.upper(),
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": parameters or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": route.api_id,
                "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.path).hex[:6],
                "resourcePath": route.path,
                "stage": route.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "path": f"/{route.stage}{path}",
                "httpMethod": request.method.upper(),
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "domainName": request.host,
                "domainPrefix": route.api_id,
                "identity": {
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent"),
                    "accessKey": None,
                    "accountId": None,
                    "apiKey": None,
                    "apiKeyId": None,
                    "caller": None,
                    "cognitoAuthenticationProvider": None,
                    "cognitoAuthenticationType": None,
                    "cognitoIdentityId": None,
                    "cognitoIdentityPoolId": None,
                    "principalOrgId": None,
                    "user": None,
                    "userArn": None,
                },
            },
            "body": body,
            "isBase64Encoded": encoded,
        }

    def response(self, result: Any) -> Response:
        if not isinstance(result, dict) or "statusCode" not in result:
            log.warning("malformed Lambda proxy response: %.200r", result)
            return self._bad_gateway()
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        response = Response(data, status=int(result["statusCode"]))
        response.headers.pop("Content-Type", None)
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.pop(name, None)
            for value in values:
                response.headers.add(name, str(value))
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"  # API Gateway's default
        return response

    @staticmethod
    def _bad_gateway() -> Response:
        return Response(
            json.dumps({"message": "Internal server error"}),
            status=502,
            content_type="application/json",
            headers={"x-amzn-ErrorType": "InternalServerErrorException"},
        )
