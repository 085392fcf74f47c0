"""The demo consortium of `make run` (infra/demo/consortium.py), seeded into template.yaml's
resources under in-process moto: real network items with audit entries, real Cognito users."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from demo import consortium
from local.template import Deployment, deploy, load_template
from netzone.access import principal_from_claims
from netzone.adapters.network_store import DynamoNetworkStore
from netzone.network_service import NetworkService


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Deployment, boto3.Session]]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        yield deploy(load_template("template.yaml"), session=session), session


def seed(deployment: Deployment, session: boto3.Session) -> consortium.SeedReport:
    return consortium.seed_stack(
        deployment.name_of("NetworkTable"), deployment.resources["StaffUserPool"].ref, session=session
    )


def test_the_demo_is_created_through_the_domain_with_audit_entries(
    stack: tuple[Deployment, boto3.Session],
) -> None:
    deployment, session = stack
    report = seed(deployment, session)

    assert report.created == {
        "consortium": 1,
        "members": 5,
        "libraries": 18,
        "groups": 5,
        "providers": 4,
        "staff": 6,
    }
    service = NetworkService(
        DynamoNetworkStore(deployment.name_of("NetworkTable"), client=session.client("dynamodb"))
    )
    central = consortium.SEED_PRINCIPAL
    members = {member["code"]: member for member in service.list_members(central).items}
    assert set(members) == {"lku", "pcc", "brc", "stu", "wpl"}
    assert members["lku"]["import_permissions"] == {"bibliographic": True, "authority": True}
    assert members["brc"]["import_permissions"]["bibliographic"] is True
    assert members["pcc"]["import_permissions"]["bibliographic"] is False
    assert members["lku"]["updated_by"] == "netzone-seed" and members["lku"]["version"] == 1

    lku = {library["code"]: library for library in service.list_libraries(central, "lku").items}
    assert lku["lakeshore"]["kind"] == "campus" and lku["law"]["parent"] == "lakeshore"
    wpl = {library["code"]: library for library in service.list_libraries(central, "wpl").items}
    assert wpl["millbrook"]["kind"] == "community" and wpl["millbrook-mobile"]["parent"] == "millbrook"
    assert [library["code"] for library in service.list_libraries(central, "pcc").items] == ["main"]
    network_groups = {group["code"]: group for group in service.list_groups(central, "network").items}
    assert (
        network_groups["north"]["items"] == ["lku", "pcc"]
        and "dispatch" in network_groups["north"]["purposes"]
    )
    assert [group["code"] for group in service.list_groups(central, "lku").items] == ["professional"]
    providers = {provider["code"] for provider in service.list_providers(central).items}
    assert {"harbor", "meridian"} <= providers

    audit = service.audit_for_object(central, "library", "lku/law").items
    assert [(entry["action"], entry["actor"]) for entry in audit] == [("create", "netzone-seed")]
    assert service.audit_for_member(central, "lku", limit=100).items  # per-member trail too


def test_demo_staff_sign_in_with_the_demo_password_and_carry_their_scope(
    stack: tuple[Deployment, boto3.Session],
) -> None:
    deployment, session = stack
    report = seed(deployment, session)
    cognito = session.client("cognito-idp")

    assert report.password == consortium.DEMO_PASSWORD
    assert {(user.username, tuple(user.roles), user.member) for user in report.staff} == {
        ("central", ("central_admin",), None),
        ("lku-admin", ("member_admin",), "lku"),
        ("lku-cat", ("cataloger",), "lku"),
        ("pcc-admin", ("member_admin",), "pcc"),
        ("net-cat", ("cataloger",), None),  # the review queue and unmerge need a network cataloger
        ("circ", ("circulation",), None),
    }
    for username, roles, member in (("lku-admin", {"member_admin"}, "lku"), ("circ", {"circulation"}, None)):
        tokens = cognito.initiate_auth(
            ClientId=deployment.outputs["StaffUserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": consortium.DEMO_PASSWORD},
        )["AuthenticationResult"]
        claims = _claims(tokens["IdToken"])
        principal = principal_from_claims(claims)
        assert (principal.username, principal.roles, principal.member) == (username, roles, member)


def test_seeding_twice_creates_nothing_new(stack: tuple[Deployment, boto3.Session]) -> None:
    deployment, session = stack
    seed(deployment, session)
    again = seed(deployment, session)

    assert sum(again.created.values()) == 0
    assert again.count("libraries") == 18 and again.count("consortium") == 1
    assert len(again.staff) == 6


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
