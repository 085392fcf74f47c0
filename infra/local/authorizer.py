"""API Gateway's Cognito user pool authorizer, locally: the same ID tokens, checked the same way.

A route's authorizer comes from SAM: the event's `Auth.Authorizer` names one of the RestApi's
`Auth.Authorizers` (`NONE`, or no `Auth` while the Api has no `DefaultAuthorizer`, is public).
For a Cognito authorizer (`UserPoolArn`), a request must carry a token in the identity header
(`Authorization` unless `Identity.Header` says otherwise), raw or as `Bearer <token>`. It is
accepted when:

- it is a JWS signed with RS256 by a key of the pool's JWKS (moto serves it at
  `{endpoint}/{poolId}/.well-known/jwks.json`; fetched once per pool and cached),
- `iss` is `https://cognito-idp.<region>.amazonaws.com/<poolId>` of one of the authorizer's pools,
- `exp` is in the future,
- without `AuthorizationScopes`: `token_use` is `id` and `aud` is one of the pool's app clients;
  with scopes: `token_use` is `access`, `client_id` is one of the pool's app clients and `scope`
  holds one of the route's scopes.

Otherwise API Gateway answers 401 (the Api's `GatewayResponses.UNAUTHORIZED`, else
`{"message": "Unauthorized"}`) and never invokes the function. An accepted token's claims reach the
function as API Gateway passes them: `requestContext.authorizer.claims`, every value a string
(lists comma-separated, `exp`/`iat` as dates).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from local.template import TemplateError

__all__ = [
    "Authorizer",
    "CognitoVerifier",
    "Unauthorized",
    "authorizer_for",
    "gateway_claims",
    "gateway_response",
]

POOL_ARN = re.compile(r"^arn:aws[\w-]*:cognito-idp:(?P<region>[\w-]+):\d{12}:userpool/(?P<id>[\w-]+_\w+)$")
JWKS_TTL = 300.0  # seconds a pool's keys are trusted before they are fetched again
CLIENTS_TTL = 5.0  # app clients can be added while the stack runs


@dataclass(frozen=True)
class Authorizer:
    """A Cognito user pool authorizer of a RestApi, as SAM's `Auth.Authorizers.<name>` declares it."""

    name: str
    user_pool_arns: tuple[str, ...]
    header: str = "Authorization"
    scopes: tuple[str, ...] = ()  # the route's AuthorizationScopes (then access tokens are required)

    @property
    def pools(self) -> dict[str, str]:
        """pool id -> expected issuer."""
        result = {}
        for arn in self.user_pool_arns:
            match = POOL_ARN.match(arn)
            if match is None:
                raise TemplateError(f"authorizer {self.name}: {arn!r} is not a Cognito user pool ARN")
            result[match["id"]] = f"https://cognito-idp.{match['region']}.amazonaws.com/{match['id']}"
        return result


class Unauthorized(Exception):
    """The token is missing or not acceptable; the message is what API Gateway would say."""

    def __init__(self, message: str = "Unauthorized", reason: str = ""):
        super().__init__(message)
        self.message = message
        self.reason = reason or message  # for the local log only


# ---------------------------------------------------------------------------------- from SAM


def authorizer_for(
    api_logical_id: str, api_properties: dict, event_name: str, event_properties: dict
) -> Authorizer | None:
    """The authorizer SAM puts on one Api event, or None for a public route.

    Raises TemplateError for an authorizer the local stack cannot enforce (Lambda authorizers,
    AWS_IAM): a route must never be open locally while it is protected on AWS without saying so.
    """
    api_auth = api_properties.get("Auth") or {}
    event_auth = event_properties.get("Auth") or {}
    name = event_auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
    where = f"{event_name} ({event_properties.get('Method', '?')} {event_properties.get('Path', '?')})"
    if name in (None, "", "NONE"):
        return None
    if name == "AWS_IAM":
        raise TemplateError(f"{where}: AWS_IAM authorization is not enforced by the local API")
    declared = api_auth.get("Authorizers") or {}
    if name not in declared:
        raise TemplateError(
            f"{where}: authorizer {name!r} is not one of {api_logical_id}'s Auth.Authorizers "
            f"({', '.join(declared) or 'none declared'})"
        )
    spec = declared[name] or {}
    if "UserPoolArn" not in spec:
        raise TemplateError(
            f"{where}: authorizer {name} is a Lambda authorizer; the local API only enforces Cognito "
            "user pool authorizers (UserPoolArn)"
        )
    arns = spec["UserPoolArn"]
    arns = tuple(arns) if isinstance(arns, list) else (arns,)
    header = ((spec.get("Identity") or {}).get("Header")) or "Authorization"
    scopes = event_auth.get("AuthorizationScopes", spec.get("AuthorizationScopes")) or []
    authorizer = Authorizer(name, tuple(str(arn) for arn in arns), str(header), tuple(scopes))
    authorizer.pools  # noqa: B018 - validates the ARNs now, at startup
    return authorizer


# ---------------------------------------------------------------------------------- verifying


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class CognitoVerifier:
    """Checks Cognito tokens for authorizers; keys and app clients are cached per pool."""

    def __init__(
        self,
        endpoint_url: str | None,
        cognito: Any = None,
        *,
        fetch: Callable[[str], Any] = _fetch_json,
        clock: Callable[[], float] = time.time,
    ):
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self._cognito = cognito
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, KeySet]] = {}
        self._clients: dict[str, tuple[float, frozenset[str]]] = {}

    @property
    def cognito(self) -> Any:
        if self._cognito is None:
            import boto3

            self._cognito = boto3.client("cognito-idp")
        return self._cognito

    def jwks_url(self, pool_id: str, issuer: str) -> str:
        """moto serves every pool's keys under its endpoint; AWS under the issuer."""
        base = f"{self.endpoint_url}/{pool_id}" if self.endpoint_url else issuer
        return f"{base}/.well-known/jwks.json"

    def _key_set(self, pool_id: str, issuer: str, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys.get(pool_id)
            if cached and not refresh and self._clock() - cached[0] < JWKS_TTL:
                return cached[1]
        keys = KeySet.import_key_set(self._fetch(self.jwks_url(pool_id, issuer)))
        with self._lock:
            self._keys[pool_id] = (self._clock(), keys)
        return keys

    def _client_ids(self, pool_id: str, refresh: bool = False) -> frozenset[str]:
        with self._lock:
            cached = self._clients.get(pool_id)
            if cached and not refresh and self._clock() - cached[0] < CLIENTS_TTL:
                return cached[1]
        ids: set[str] = set()
        paginator = self.cognito.get_paginator("list_user_pool_clients")
        for page in paginator.paginate(UserPoolId=pool_id, PaginationConfig={"PageSize": 60}):
            ids.update(client["ClientId"] for client in page.get("UserPoolClients", []))
        with self._lock:
            self._clients[pool_id] = (self._clock(), frozenset(ids))
        return frozenset(ids)

    def verify(self, header_value: str | None, authorizer: Authorizer) -> dict[str, Any]:
        """The token's claims (as the token has them), or Unauthorized."""
        token = (header_value or "").strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            raise Unauthorized(reason=f"no token in the {authorizer.header} header")
        try:
            unverified = json.loads(_b64(token.split(".")[1]))
            issuer = unverified["iss"]
        except (IndexError, ValueError, KeyError, TypeError):
            raise Unauthorized(reason="not a JWT") from None
        pools = authorizer.pools
        pool_id = next((pool for pool, expected in pools.items() if expected == issuer), None)
        if pool_id is None:
            raise Unauthorized(reason=f"issuer {issuer!r} is not {authorizer.name}'s user pool")
        claims = self._verified_claims(token, pool_id, issuer)
        now = int(self._clock())
        registry = jwt.JWTClaimsRegistry(
            now=now, iss={"essential": True, "value": issuer}, exp={"essential": True}
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            if error.error == "expired_token":
                raise Unauthorized("The incoming token has expired", reason="expired") from None
            raise Unauthorized(reason=f"claims: {error}") from None
        if authorizer.scopes:
            if claims.get("token_use") != "access":
                raise Unauthorized(reason="this route takes an access token (it has AuthorizationScopes)")
            client = claims.get("client_id")
            granted = set(str(claims.get("scope", "")).split())
            if not granted.intersection(authorizer.scopes):
                raise Unauthorized(reason=f"scope {sorted(granted)} has none of {list(authorizer.scopes)}")
        else:
            if claims.get("token_use") != "id":
                raise Unauthorized(reason=f"token_use is {claims.get('token_use')!r}, not 'id'")
            client = claims.get("aud")
        if client not in self._client_ids(pool_id) and client not in self._client_ids(pool_id, refresh=True):
            raise Unauthorized(reason=f"{client!r} is not an app client of {pool_id}")
        return claims

    def _verified_claims(self, token: str, pool_id: str, issuer: str) -> dict[str, Any]:
        for refresh in (False, True):  # a kid we do not know yet: fetch the keys once more
            keys = self._key_set(pool_id, issuer, refresh=refresh)
            try:
                decoded = jwt.decode(token, keys, algorithms=["RS256"])
            except JoseError as error:
                if error.error == "invalid_key_id" and not refresh:
                    continue
                raise Unauthorized(reason=f"signature: {error}") from None
            except ValueError as error:  # not JSON, bad base64
                raise Unauthorized(reason=f"not a JWS: {error}") from None
            return dict(decoded.claims)
        raise Unauthorized(reason="signature")  # pragma: no cover - the loop returns or raises


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


# ---------------------------------------------------------------------------------- to the event


def _api_gateway_date(seconds: Any) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(int(seconds)))


def gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's REST (v1) Cognito authorizer hands them to the integration.

    Every value is a string: lists are joined with commas (`cognito:groups` of two groups is
    "member_admin,cataloger"), booleans are "true"/"false", and `exp`/`iat` become dates such as
    "Tue Nov 24 10:00:00 UTC 2026" (`auth_time` stays a number).
    """
    result: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            result[name] = _api_gateway_date(value)
        elif isinstance(value, bool):
            result[name] = "true" if value else "false"
        elif isinstance(value, list):
            result[name] = ",".join(str(item) for item in value)
        elif isinstance(value, dict):
            result[name] = json.dumps(value, separators=(",", ":"))
        else:
            result[name] = str(value)
    return result


def gateway_response(
    api_properties: dict,
    response_type: str,
    message: str,
    *,
    request_id: str,
    request_headers: dict[str, str],
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of an API Gateway gateway response, honouring `GatewayResponses`.

    The type's own entry wins, then DEFAULT_4XX; without either, API Gateway's default body
    `{"message": "<message>"}`. Templates may use `$context.error.message`,
    `$context.error.messageString`, `$context.error.responseType` and `$context.requestId`.
    """
    defaults = {"UNAUTHORIZED": 401, "ACCESS_DENIED": 403}
    configured = api_properties.get("GatewayResponses") or {}
    entry = configured.get(response_type) or configured.get("DEFAULT_4XX") or {}
    status = int(entry.get("StatusCode") or defaults.get(response_type, 400))
    templates = entry.get("ResponseTemplates") or {}
    content_type = "application/json"
    body = json.dumps({"message": message})
    if templates:
        content_type = "application/json" if "application/json" in templates else next(iter(templates))
        body = str(templates[content_type])
        for variable, value in (
            ("$context.error.messageString", json.dumps(message)),
            ("$context.error.message", message),
            ("$context.error.responseType", response_type),
            ("$context.requestId", request_id),
        ):
            body = body.replace(variable, value).replace(variable.replace("$", "${", 1) + "}", value)
    headers = {"Content-Type": content_type, "x-amzn-ErrorType": "UnauthorizedException"}
    lowered = {name.lower(): value for name, value in request_headers.items()}
    for name, expression in ((entry.get("ResponseParameters") or {}).get("Headers") or {}).items():
        expression = str(expression)
        if expression.startswith("method.request.header."):
            value = lowered.get(expression.removeprefix("method.request.header.").lower())
            if value is not None:
                headers[name] = value
        else:
            headers[name] = expression.strip("'")
    if response_type != "UNAUTHORIZED":
        headers.pop("x-amzn-ErrorType")
    return status, headers, body.encode()
