"""Problem details (RFC 9457) for API errors: a stable code and a message that says what to fix."""

from __future__ import annotations

import json
from dataclasses import dataclass

PROBLEM_JSON = "application/problem+json"


@dataclass
class Problem(Exception):
    status: int
    code: str
    detail: str
    title: str | None = None
    errors: list[dict] | None = None

    def body(self) -> dict:
        body = {
            "type": f"https://netzone.dev/problems/{self.code}",
            "title": self.title or _TITLES.get(self.status, "Error"),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return body

    def to_json(self) -> str:
        return json.dumps(self.body(), ensure_ascii=False)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    422: "Unprocessable Content",
    429: "Too Many Requests",
}


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


def install_problem_handlers(app, on_denied=None) -> None:
    """Make a Powertools REST resolver answer every error as a problem document.

    `Problem` keeps its status; a request that fails validation is a 422 listing each field;
    an unknown route is a 404. Shared by every API function so they all answer alike.
    """
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.exceptions import NotFoundError
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

    @app.exception_handler(Problem)
    def problem(error: Problem) -> Response:
        if on_denied is not None and error.status in (401, 403):
            on_denied(error)
        return Response(error.status, PROBLEM_JSON, error.to_json())

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
        return problem(
            Problem(404, "no-such-route", f"no route {event.http_method} {event.path}; see /openapi.json")
        )
