"""The network API behind the local Cognito authorizer: the whole stack, real user-pool tokens.

Staff users are made in the stack's user pool with boto3 (as the network API's StaffDirectory
does: groups for roles, `custom:member` for the scope) and sign in with USER_PASSWORD_AUTH, as
`netzone login` does. Forged tokens are signed with moto's own key pair (moto signs every pool's
tokens with it) or with a fresh RSA key under the same key id.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from harness import PASSWORD, Stack, sign_in
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

pytestmark = pytest.mark.integration

UNAUTHORIZED_BODY = {
    "type": "https://netzone.dev/problems/unauthenticated",
    "title": "Unauthorized",
    "status": 401,
    "code": "unauthenticated",
    "detail": "send a valid staff ID token in the Authorization header (netzone login)",
}


@pytest.fixture(scope="module")
def stack(netzone_stack: Stack) -> Stack:
    """The project's template, running without the demo (one stack for this module)."""
    return netzone_stack


@pytest.fixture(scope="module")
def central(stack: Stack) -> requests.Session:
    """A central-office administrator's session; the members lku and pcc exist."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + sign_in(stack, "it-central", ["central_admin"])["IdToken"]
    for code, name in (("lku", "Lakeshore University"), ("pcc", "Pinecrest Community College")):
        response = session.post(stack.api + "/members", json={"code": code, "name": name}, timeout=30)
        assert response.status_code == 201, response.text
    return session


@pytest.fixture(scope="module")
def lku_admin(stack: Stack, central: requests.Session) -> dict:
    return sign_in(stack, "it-lku-admin", ["member_admin"], member="lku")


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def forge(claims: dict, key: RSAKey, kid: str = "dummy") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def moto_key() -> RSAKey:
    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def invocations(stack: Stack, function: str = "NetworkApiFunction") -> int:
    log = stack.logs / f"{function}.log"
    return log.read_text(errors="replace").count("START RequestId:") if log.exists() else 0


def get(stack: Stack, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": token} if token is not None else {}
    return requests.get(stack.api + path, headers=headers, timeout=30, **kwargs)


def assert_unauthorized(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == UNAUTHORIZED_BODY  # the template's GatewayResponses.UNAUTHORIZED


def test_without_a_token_the_gateway_answers_401_and_the_function_is_not_invoked(stack: Stack) -> None:
    before = invocations(stack)

    for token in (None, "", "Bearer ", "not-a-jwt", "Bearer a.b.c"):
        assert_unauthorized(get(stack, "/members", token))
    assert_unauthorized(requests.post(stack.api + "/members", json={"code": "x", "name": "X"}, timeout=30))
    assert_unauthorized(get(stack, "/members/lku/libraries"))  # a {proxy+} route

    assert invocations(stack) == before


def test_an_expired_token_signed_with_the_pools_key_is_refused(stack: Stack, lku_admin: dict) -> None:
    claims = claims_of(lku_admin["IdToken"])
    now = int(time.time())
    before = invocations(stack)

    # The same forgery with a valid lifetime is accepted, so expiry is the only thing wrong below.
    fresh = forge({**claims, "iat": now, "exp": now + 600}, moto_key())
    assert get(stack, "/members/lku/libraries", fresh).status_code == 200

    expired = forge({**claims, "iat": now - 3660, "exp": now - 60}, moto_key())
    assert_unauthorized(get(stack, "/members/lku/libraries", expired))
    assert invocations(stack) == before + 1


def test_a_token_signed_by_another_key_is_refused(stack: Stack, lku_admin: dict) -> None:
    claims = claims_of(lku_admin["IdToken"])
    before = invocations(stack)

    forged = forge(claims, RSAKey.generate_key(2048))  # same kid "dummy", different key
    assert_unauthorized(get(stack, "/members/lku/libraries", forged))
    unknown_kid = forge(claims, RSAKey.generate_key(2048), kid="someone-else")
    assert_unauthorized(get(stack, "/members/lku/libraries", unknown_kid))
    assert invocations(stack) == before


def test_tokens_of_another_pool_or_client_and_access_tokens_are_refused(
    stack: Stack, lku_admin: dict
) -> None:
    claims = claims_of(lku_admin["IdToken"])
    cognito = stack.client("cognito-idp")
    # moto signs every pool's tokens with the same key: only iss and aud tell them apart.
    other_pool = cognito.create_user_pool(PoolName="elsewhere")["UserPool"]["Id"]
    other_client = cognito.create_user_pool_client(
        UserPoolId=other_pool, ClientName="x", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=other_pool, Username="outsider")
    cognito.admin_set_user_password(
        UserPoolId=other_pool, Username="outsider", Password=PASSWORD, Permanent=True
    )
    foreign = cognito.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "outsider", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    before = invocations(stack)

    assert_unauthorized(get(stack, "/members", foreign))
    assert_unauthorized(get(stack, "/members", forge({**claims, "aud": other_client}, moto_key())))
    # No AuthorizationScopes on the route: API Gateway takes the ID token, not the access token.
    assert_unauthorized(get(stack, "/members", lku_admin["AccessToken"]))
    assert invocations(stack) == before


def test_a_member_administrator_reaches_their_member_only(stack: Stack, lku_admin: dict) -> None:
    token = lku_admin["IdToken"]

    created = requests.post(
        stack.api + "/members/lku/libraries",
        json={"code": "main", "name": "Hale Memorial Library"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    assert created.json()["updated_by"] == "it-lku-admin"  # the claims reached the handler

    own = get(stack, "/members/lku/libraries", token)
    assert own.status_code == 200, own.text
    assert [library["code"] for library in own.json()["items"]] == ["main"]

    other = get(stack, "/members/pcc/libraries", token)
    assert other.status_code == 403
    assert other.headers["Content-Type"] == "application/problem+json"
    problem = other.json()
    assert problem["status"] == 403 and problem["code"] == "forbidden"
    assert "member pcc" in problem["detail"]


def test_the_openapi_document_is_public(stack: Stack) -> None:
    response = get(stack, "/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {
        "/members",
        "/members/{member}/libraries",
        "/libraries",
        "/groups",
        "/providers",
        "/staff",
    } <= set(document["paths"])
    assert "post" in document["paths"]["/members/{member}/libraries"]
    index = {
        (route["method"], route["path"]): route["authorizer"] for route in get(stack, "/").json()["routes"]
    }
    assert index[("GET", "/openapi.json")] is None
    assert index[("ANY", "/members/{proxy+}")] == "StaffAuthorizer"


def test_300_libraries_of_30_members_are_listed_once_page_by_page(
    stack: Stack, central: requests.Session
) -> None:
    started = time.perf_counter()
    members = [f"scale{n:02d}" for n in range(30)]
    for member in members:
        response = central.post(
            stack.api + "/members", json={"code": member, "name": f"Member {member}"}, timeout=30
        )
        assert response.status_code == 201, response.text
        for n in range(10):
            response = central.post(
                stack.api + f"/members/{member}/libraries",
                json={"code": f"lib{n}", "name": f"Library {n} of {member}"},
                timeout=30,
            )
            assert response.status_code == 201, response.text
    created_in = time.perf_counter() - started

    listed: list[tuple[str, str]] = []
    pages = 0
    next_token = None
    started = time.perf_counter()
    while True:
        params = {"limit": 50, **({"next": next_token} if next_token else {})}
        response = central.get(stack.api + "/libraries", params=params, timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 50
        listed += [(library["member"], library["code"]) for library in page["items"]]
        pages += 1
        next_token = page.get("next")
        if not next_token:
            break
    listed_in = time.perf_counter() - started

    assert len(listed) == len(set(listed)), "a library was listed twice"
    scale = {(member, code) for member, code in listed if member.startswith("scale")}
    assert scale == {(member, f"lib{n}") for member in members for n in range(10)}
    assert pages >= 300 // 50
    print(
        f"\n330 POSTs in {created_in:.1f} s ({created_in / 330 * 1000:.0f} ms each); {pages} pages in {listed_in:.2f} s"
    )
