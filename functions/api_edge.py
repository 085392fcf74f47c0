"""The edge every API function shares: requests screened before any route runs, every error a problem.

API Gateway hands a function whatever bytes a client sent. Before a route sees them, the edge
refuses what no route can use, each as an RFC 9457 problem body that says what to fix:

- a body over `MAX_BODY_BYTES` (413), a body without `Content-Type: application/json` (415);
- a body that is not UTF-8 (400), or not JSON, nested deeper than `MAX_JSON_DEPTH`, or holding
  text that is not Unicode (a lone surrogate such as `\\ud800`) or NaN/Infinity (400).

Every error after that is a problem too. This is the one place the domain's errors
(`netzone.errors`) become HTTP: each kind has its status (`STATUS`), and its code, detail and
per-item errors become the problem body unchanged. A request that fails validation is a 422
naming each field, an unknown route a 404, and anything unexpected a 500 whose body carries only
the request id (the cause goes to the log).

`Problem` is the problem document itself (what the edge and the handlers answer with),
`negotiate` picks a response's media type from an Accept header, `ApiResolver` is the Powertools
REST resolver with this edge built in, and `responses` documents each route's statuses and
bodies for the OpenAPI document.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from netzone.errors import Conflict, Denied, Gone, Invalid, NetzoneError, NotFound, Unauthenticated

MAX_BODY_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB synchronous payload, with room for the event
MAX_JSON_DEPTH = 32  # the deepest body a route takes is a contribution's MARC-in-JSON (5 levels)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

logger = Logger(child=True)


# ---------------------------------------------------------------- problems

PROBLEM_JSON = "application/problem+json"

TITLES = {
    200: "OK",
    201: "Created",
    301: "Moved Permanently",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}

# The status each kind of domain error answers with (netzone.errors).
STATUS: dict[type[NetzoneError], int] = {
    Unauthenticated: 401,
    Denied: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    Invalid: 422,
}


@dataclass
class Problem(Exception):
    """An RFC 9457 problem document: a status, a stable code and a detail that says what to fix."""

    status: int
    code: str
    detail: str
    title: str | None = None
    errors: list[dict] | None = None

    @classmethod
    def of(cls, error: NetzoneError) -> Problem:
        """The problem a domain error answers with: its kind's status, its code, detail and errors."""
        status = next(STATUS[kind] for kind in type(error).__mro__ if kind in STATUS)
        return cls(status, error.code, error.detail, errors=error.errors)

    def body(self) -> dict:
        body = {
            "type": f"https://netzone.dev/problems/{self.code}",
            "title": self.title or TITLES.get(self.status, "Error"),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return body

    def to_json(self) -> str:
        return json.dumps(self.body(), ensure_ascii=False)


class ProblemBody(BaseModel):
    """An RFC 9457 problem document, as every error of every route is answered."""

    type: str = Field(description="a URI naming the problem; its last segment is `code`")
    title: str
    status: int
    code: str = Field(description="stable: match on this, not on the text")
    detail: str = Field(description="what went wrong and what to do about it")
    errors: list[dict[str, Any]] | None = Field(default=None, description="one entry per field or record")


def negotiate(accept: str | None, offers: list[str]) -> str | None:
    """The offer an Accept header prefers (q-value, then the more specific range, then our order)."""
    if not accept or not accept.strip():
        return offers[0]
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))

    def preference(offer: str) -> tuple[float, int]:
        kind = offer.split("/")[0]
        best = (0.0, -1)
        for media, quality in ranges:
            specificity = {offer: 2, f"{kind}/*": 1, "*/*": 0}.get(media)
            if specificity is not None and specificity > best[1]:
                best = (quality, specificity)
        return best

    scored = [(preference(offer), -rank, offer) for rank, offer in enumerate(offers)]
    (quality, _), _, offer = max(scored)
    return offer if quality > 0 else None


# ---------------------------------------------------------------- screening a request


def _header(event: dict, name: str) -> str:
    for source in (event.get("headers") or {}, event.get("multiValueHeaders") or {}):
        for key, value in source.items():
            if key.lower() == name:
                return (value[0] if isinstance(value, list) and value else value) or ""
    return ""


def screen(event: dict) -> Problem | None:
    """Why the request's body cannot reach a route, or None when it can."""
    body = event.get("body")
    if (event.get("httpMethod") or "").upper() not in BODY_METHODS or body in (None, ""):
        return None
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else None
    except (binascii.Error, ValueError):
        return Problem(400, "invalid-body", "the body is marked base64 but is not valid base64")
    size = len(raw) if raw is not None else len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return Problem(
            413,
            "body-too-large",
            f"the body is {size:,} bytes; at most {MAX_BODY_BYTES:,} are accepted (send fewer records at a time)",
        )
    media, *params = (part.strip() for part in _header(event, "content-type").split(";"))
    charset = next(
        (p.split("=", 1)[1].strip('" ').lower() for p in params if p.lower().startswith("charset=")), ""
    )
    if media.lower() != "application/json" or charset not in ("", "utf-8"):
        got = f"Content-Type {media!r}" if media else "no Content-Type"
        return Problem(
            415,
            "unsupported-media-type",
            f"send the body as JSON with Content-Type: application/json ({got})",
        )
    try:
        if raw is not None:
            raw.decode("utf-8")
        else:
            body.encode("utf-8")
    except UnicodeError as error:
        return Problem(
            400, "invalid-utf8", f"the body is not valid UTF-8 (at byte {error.start}); send UTF-8 JSON"
        )
    return None


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str) -> Any:
    """A request body as JSON, refusing what JSON (RFC 8259, I-JSON) does not allow or we cannot take."""
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except RecursionError as error:
        raise _too_deep() from error
    except json.JSONDecodeError as error:
        raise Problem(
            400,
            "invalid-json",
            f"the body is not JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from error
    except ValueError as error:  # NaN/Infinity, or an integer of more digits than Python reads
        raise Problem(400, "invalid-json", f"the body is not usable JSON: {error}") from error
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                raise Problem(
                    400,
                    "invalid-text",
                    f"a string holds {value[error.start]!r}, a lone surrogate that is not a character; "
                    "send each character whole (a surrogate pair, or the character itself)",
                ) from error
    return data


def _too_deep() -> Problem:
    return Problem(400, "json-too-deep", f"the body nests objects and arrays more than {MAX_JSON_DEPTH} deep")


def problem_response(problem: Problem, request_id: str | None = None) -> dict:
    """An API Gateway proxy response carrying `problem` (for refusals made before the resolver)."""
    return {
        "statusCode": problem.status,
        "headers": {"Content-Type": PROBLEM_JSON} | ({"x-request-id": request_id} if request_id else {}),
        "multiValueHeaders": {},
        "body": problem.to_json(),
        "isBase64Encoded": False,
    }


# ---------------------------------------------------------------- the resolver


class ApiResolver(APIGatewayRestResolver):
    """Powertools' REST resolver with request validation, the screen above and problem bodies."""

    def __init__(self, on_denied: Callable[[Problem], None] | None = None, **kwargs: Any) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=parse_json, **kwargs)
        _install_problem_handlers(self, on_denied)

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        refusal = screen(event)
        if refusal is not None:
            logger.info("request refused at the edge", extra={"status": refusal.status, "code": refusal.code})
            return problem_response(refusal)
        return super().resolve(event, context)


def _install_problem_handlers(
    app: APIGatewayRestResolver, on_denied: Callable[[Problem], None] | None
) -> None:
    @app.exception_handler(Problem)
    def problem(error: Problem) -> Response:
        if on_denied is not None and error.status in (401, 403):
            on_denied(error)
        return Response(error.status, PROBLEM_JSON, error.to_json())

    @app.exception_handler(NetzoneError)
    def refused(error: NetzoneError) -> Response:
        if not isinstance(error, tuple(STATUS)):  # a domain error of no kind is a fault of ours
            return unexpected(error)
        return problem(Problem.of(error))

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
                "message": e.get("msg"),
            }
            for e in error.errors()
        ]
        fields = ", ".join(e["field"] for e in errors[:5])
        return problem(Problem(422, "invalid-request", f"fix these fields: {fields}", errors=errors))

    @app.not_found
    def no_route(_: NotFoundError) -> Response:
        event = app.current_event
        allowed = sorted(
            # Powertools keeps its routes private and offers no look-up by path; read them here only.
            {r.method for r in app._static_routes + app._dynamic_routes if r.rule.match(event.path)}
        )
        if allowed:  # the resource exists, the method does not (RFC 9110: 405 with Allow)
            refusal = Problem(
                405,
                "method-not-allowed",
                f"{event.http_method} is not allowed on {event.path}; use {', '.join(allowed)}",
            )
            return Response(405, PROBLEM_JSON, refusal.to_json(), {"Allow": ", ".join(allowed)})
        return problem(
            Problem(404, "no-such-route", f"no route {event.http_method} {event.path}; see /openapi.json")
        )

    @app.exception_handler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        return problem(Problem(error.status_code, "request-refused", str(error.msg)))

    @app.exception_handler(NotImplementedError)  # Powertools' unsupported content type, should one pass
    def unsupported(_: NotImplementedError) -> Response:
        return problem(
            Problem(
                415, "unsupported-media-type", "send the body as JSON with Content-Type: application/json"
            )
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        request_id = app.current_event.request_context.request_id
        logger.exception("unexpected error", extra={"error_type": type(error).__name__})
        return problem(
            Problem(
                500,
                "internal-error",
                f"an unexpected error stopped the request; retry it, and if it fails again report request id {request_id}",
            )
        )


# ---------------------------------------------------------------- documenting routes


COMMON = (400, 401, 500)  # any route: a malformed request, no identity, a fault of ours
WITH_BODY = (413, 415, 422)  # a route that takes a body
JSON = "application/json"


def responses(
    status: int, model: Any, *problems: int, media: str = JSON, body: bool = False, public: bool = False
) -> dict[int, OpenAPIResponse]:
    """The OpenAPI `responses` of a route: its success body and every problem it can answer
    (`public`: no authorizer in front of it, so never a 401)."""
    documented: dict[int, OpenAPIResponse] = {
        status: {"description": TITLES.get(status, "OK"), "content": {media: {"model": model}}}
    }
    common = {*COMMON} - ({401} if public else set())
    for code in sorted({*common, 422, *(WITH_BODY if body else ()), *problems}):
        documented[code] = {
            "description": TITLES.get(code, "Error"),
            "content": {PROBLEM_JSON: {"model": ProblemBody}},
        }
    return documented
