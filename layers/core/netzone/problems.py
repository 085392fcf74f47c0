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
