"""Paging tokens: opaque to clients, signed, and bound to the list and the caller's scope.

A list answers with `next`; the client sends it back to get the following page. Inside, a token
is the position the next page starts after (a store's sort key), but a client can neither read
a meaning into it nor forge one: it is signed with a key only the API holds (HMAC-SHA256), over
the position and what the token is bound to (the list's path, its filters and the caller's
scope). A token from another list, another member's staff or an edited one is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from netzone.errors import Invalid

MAX_TOKEN_CHARS = 2048


class InvalidPageToken(Invalid):
    """The token was not issued for this list and caller, or was altered."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid-next-token", detail)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    def __init__(self, key: bytes):
        if len(key) < 32:
            raise ValueError("a paging-token key needs at least 32 bytes")
        self._key = key

    def _mac(self, payload: str, bound_to: str) -> str:
        message = f"{bound_to}\n{payload}".encode("utf-8", "surrogatepass")
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest()[:18])

    def seal(self, position: str, bound_to: str) -> str:
        payload = _b64(position.encode("utf-8", "surrogatepass"))
        return f"{payload}.{self._mac(payload, bound_to)}"

    def open(self, token: str, bound_to: str) -> str:
        payload, dot, mac = token.partition(".")
        if (
            not dot
            or len(token) > MAX_TOKEN_CHARS
            or not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(payload, bound_to).encode())
        ):
            raise InvalidPageToken("next must be the value a previous page of this list returned")
        try:
            return _unb64(payload).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as error:  # signed by us, so this cannot happen
            raise InvalidPageToken("next is damaged") from error
