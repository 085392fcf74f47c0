"""The local Cognito authorizer (infra/local/authorizer.py): which routes it guards, which tokens it
takes (real user-pool tokens from in-process moto), and what API Gateway would answer or pass on."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from moto import mock_aws
from moto.utilities.utils import load_resource

from local.authorizer import (
    Authorizer,
    CognitoVerifier,
    Unauthorized,
    authorizer_for,
    gateway_claims,
    gateway_response,
)
from local.template import TemplateError

ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc"
API = {"Auth": {"Authorizers": {"Staff": {"UserPoolArn": ARN}}}}
PASSWORD = "Unit-test-password-1"


# ---------------------------------------------------------------------------------- routes


def event(**auth: object) -> dict:
    return {"Path": "/x", "Method": "GET", **({"Auth": auth} if auth else {})}


def test_an_event_names_its_authorizer_or_is_public() -> None:
    staff = authorizer_for("Api", API, "Fn.Events.X", event(Authorizer="Staff"))
    assert staff == Authorizer("Staff", (ARN,))
    assert staff.pools == {"us-east-1_abc": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"}
    assert authorizer_for("Api", API, "Fn.Events.X", event()) is None
    assert authorizer_for("Api", API, "Fn.Events.X", event(Authorizer="NONE")) is None


def test_the_default_authorizer_applies_unless_an_event_says_none() -> None:
    api = {"Auth": {**API["Auth"], "DefaultAuthorizer": "Staff"}}
    assert authorizer_for("Api", api, "Fn.Events.X", event()).name == "Staff"
    assert authorizer_for("Api", api, "Fn.Events.X", event(Authorizer="NONE")) is None


def test_identity_header_and_scopes_are_read() -> None:
    api = {
        "Auth": {
            "Authorizers": {
                "Staff": {
                    "UserPoolArn": [ARN],
                    "Identity": {"Header": "X-Token"},
                    "AuthorizationScopes": ["a"],
                }
            }
        }
    }
    found = authorizer_for("Api", api, "Fn.Events.X", event(Authorizer="Staff", AuthorizationScopes=["b"]))
    assert (found.header, found.scopes) == ("X-Token", ("b",))


@pytest.mark.parametrize(
    ("api", "auth", "message"),
    [
        (API, {"Authorizer": "Nope"}, "not one of Api's Auth.Authorizers"),
        (API, {"Authorizer": "AWS_IAM"}, "AWS_IAM authorization is not enforced"),
        (
            {"Auth": {"Authorizers": {"Fn": {"FunctionArn": "arn"}}}},
            {"Authorizer": "Fn"},
            "Lambda authorizer",
        ),
        ({"Auth": {"Authorizers": {"Bad": {"UserPoolArn": "pool"}}}}, {"Authorizer": "Bad"}, "not a Cognito"),
    ],
)
def test_an_authorizer_the_local_api_cannot_enforce_is_an_error(api: dict, auth: dict, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        authorizer_for("Api", api, "Fn.Events.X", event(**auth))


# ---------------------------------------------------------------------------------- tokens


@dataclass
class Pool:
    id: str
    client_id: str
    authorizer: Authorizer
    verifier: CognitoVerifier
    fetched: list[str]
    cognito: object

    def sign_in(self, username: str, groups: tuple[str, ...] = (), member: str | None = None) -> dict:
        attributes = [{"Name": "custom:member", "Value": member}] if member else []
        self.cognito.admin_create_user(UserPoolId=self.id, Username=username, UserAttributes=attributes)
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=self.id, Username=username, GroupName=group)
        self.cognito.admin_set_user_password(
            UserPoolId=self.id, Username=username, Password=PASSWORD, Permanent=True
        )
        return self.cognito.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        created = cognito.create_user_pool(
            PoolName="staff", Schema=[{"Name": "member", "AttributeDataType": "String", "Mutable": True}]
        )["UserPool"]
        client_id = cognito.create_user_pool_client(
            UserPoolId=created["Id"], ClientName="c", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        for group in ("member_admin", "cataloger"):
            cognito.create_group(UserPoolId=created["Id"], GroupName=group)
        fetched: list[str] = []

        def fetch(url: str) -> dict:
            fetched.append(url)
            return load_resource("cognitoidp/resources/jwks-public.json")

        verifier = CognitoVerifier("http://127.0.0.1:5000", cognito, fetch=fetch)
        yield Pool(
            created["Id"], client_id, Authorizer("Staff", (created["Arn"],)), verifier, fetched, cognito
        )


def test_a_pool_id_token_is_accepted_raw_or_as_bearer_and_keys_are_cached(pool: Pool) -> None:
    token = pool.sign_in("ann", ("member_admin", "cataloger"), member="lku")["IdToken"]

    claims = pool.verifier.verify(token, pool.authorizer)
    assert pool.verifier.verify(f"Bearer {token}", pool.authorizer) == claims
    assert pool.verifier.verify(f"bearer  {token} ", pool.authorizer) == claims

    assert claims["cognito:username"] == "ann"
    assert claims["custom:member"] == "lku"
    assert sorted(claims["cognito:groups"]) == ["cataloger", "member_admin"]  # moto: any order
    assert pool.fetched == [f"http://127.0.0.1:5000/{pool.id}/.well-known/jwks.json"]


def test_expired_foreign_and_wrong_kind_tokens_are_refused(pool: Pool) -> None:
    tokens = pool.sign_in("bob", ("member_admin",))
    payload = tokens["IdToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    moto_key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))

    def refused(token: str | None) -> Unauthorized:
        with pytest.raises(Unauthorized) as refusal:
            pool.verifier.verify(token, pool.authorizer)
        return refusal.value

    assert refused(None).message == "Unauthorized"
    assert refused("Bearer ").message == "Unauthorized"
    assert refused("a.b.c").message == "Unauthorized"
    assert refused(tokens["AccessToken"]).reason == "token_use is 'access', not 'id'"
    expired = jwt.encode({"alg": "RS256", "kid": "dummy"}, {**claims, "exp": int(time.time()) - 1}, moto_key)
    assert refused(expired).message == "The incoming token has expired"
    other_key = jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, RSAKey.generate_key(2048))
    assert "signature" in refused(other_key).reason
    other_pool = jwt.encode(
        {"alg": "RS256", "kid": "dummy"},
        {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"},
        moto_key,
    )
    assert "issuer" in refused(other_pool).reason
    other_client = jwt.encode({"alg": "RS256", "kid": "dummy"}, {**claims, "aud": "someone"}, moto_key)
    assert "app client" in refused(other_client).reason
    unsigned = jwt.encode({"alg": "HS256", "kid": "dummy"}, claims, OctKey.generate_key())
    refused(unsigned)


def test_a_later_clock_expires_a_real_token(pool: Pool) -> None:
    token = pool.sign_in("cy")["IdToken"]
    later = CognitoVerifier(
        "http://x",
        pool.cognito,
        fetch=lambda _: load_resource("cognitoidp/resources/jwks-public.json"),
        clock=lambda: time.time() + 2 * 3600,
    )
    with pytest.raises(Unauthorized, match="expired"):
        later.verify(token, pool.authorizer)


def test_routes_with_scopes_take_access_tokens_with_one_of_them(pool: Pool) -> None:
    tokens = pool.sign_in("dee")
    scoped = Authorizer("Staff", pool.authorizer.user_pool_arns, scopes=("aws.cognito.signin.user.admin",))
    other = Authorizer("Staff", pool.authorizer.user_pool_arns, scopes=("netzone/admin",))

    assert pool.verifier.verify(tokens["AccessToken"], scoped)["username"] == "dee"
    with pytest.raises(Unauthorized):
        pool.verifier.verify(tokens["IdToken"], scoped)
    with pytest.raises(Unauthorized):
        pool.verifier.verify(tokens["AccessToken"], other)


# ---------------------------------------------------------------------------------- to the event


def test_claims_reach_the_function_as_api_gateway_strings() -> None:
    claims = {
        "sub": "u-1",
        "cognito:groups": ["member_admin", "cataloger"],
        "custom:member": "lku",
        "email_verified": True,
        "exp": 1795390109,
        "iat": 1795386509,
        "auth_time": 1795386509,
    }
    assert gateway_claims(claims) == {
        "sub": "u-1",
        "cognito:groups": "member_admin,cataloger",
        "custom:member": "lku",
        "email_verified": "true",
        "exp": "Sun Nov 22 23:28:29 UTC 2026",
        "iat": "Sun Nov 22 22:28:29 UTC 2026",
        "auth_time": "1795386509",
    }


def test_the_unauthorized_gateway_response_uses_the_template() -> None:
    api = {
        "GatewayResponses": {
            "UNAUTHORIZED": {
                "StatusCode": 401,
                "ResponseTemplates": {
                    "application/json": '{"detail": $context.error.messageString, "id": "$context.requestId"}'
                },
                "ResponseParameters": {
                    "Headers": {"WWW-Authenticate": "'Bearer'", "X-Echo": "method.request.header.x-trace"}
                },
            }
        }
    }
    status, headers, body = gateway_response(
        api,
        "UNAUTHORIZED",
        "The incoming token has expired",
        request_id="r-1",
        request_headers={"X-Trace": "t"},
    )
    assert status == 401
    assert json.loads(body) == {"detail": "The incoming token has expired", "id": "r-1"}
    assert headers["Content-Type"] == "application/json"
    assert headers["WWW-Authenticate"] == "Bearer"
    assert headers["X-Echo"] == "t"

    status, headers, body = gateway_response(
        {}, "UNAUTHORIZED", "Unauthorized", request_id="r", request_headers={}
    )
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert headers["x-amzn-ErrorType"] == "UnauthorizedException"

    fallback = {
        "GatewayResponses": {
            "DEFAULT_4XX": {"ResponseTemplates": {"application/json": '{"m": "$context.error.message"}'}}
        }
    }
    status, _, body = gateway_response(
        fallback, "UNAUTHORIZED", "Unauthorized", request_id="r", request_headers={}
    )
    assert (status, json.loads(body)) == (401, {"m": "Unauthorized"})
