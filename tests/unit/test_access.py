import pytest

from netzone.access import Principal, authorize, principal_from_claims
from netzone.errors import Denied, Unauthenticated


def test_claims_as_api_gateway_sends_them():
    principal = principal_from_claims(
        {"cognito:username": "ana", "cognito:groups": "[member_admin cataloger]", "custom:member": "lku"}
    )
    assert principal == Principal("ana", frozenset({"member_admin", "cataloger"}), "lku")
    listed = principal_from_claims(
        {"cognito:username": "bo", "cognito:groups": ["circulation", "not-a-role"]}
    )
    assert listed.roles == {"circulation"} and listed.member is None


def test_central_admin_is_always_network_wide():
    principal = principal_from_claims(
        {"cognito:username": "c", "cognito:groups": "central_admin", "custom:member": "lku"}
    )
    assert principal.member is None


def test_no_identity_is_401():
    with pytest.raises(Unauthenticated) as raised:
        principal_from_claims(None)
    assert raised.value.code == "unauthenticated"


@pytest.mark.parametrize(
    ("principal", "roles", "member", "allowed"),
    [
        (Principal("c", frozenset({"central_admin"}), None), ("member_admin",), "pcc", True),
        (Principal("a", frozenset({"member_admin"}), "lku"), ("member_admin",), "lku", True),
        (Principal("a", frozenset({"member_admin"}), "lku"), ("member_admin",), "pcc", False),
        (Principal("a", frozenset({"member_admin"}), "lku"), ("member_admin",), None, False),
        (Principal("k", frozenset({"cataloger"}), "lku"), ("member_admin",), "lku", False),
        (Principal("n", frozenset({"cataloger"}), None), ("cataloger",), "pcc", True),
        (Principal("n", frozenset(), None), ("cataloger",), None, False),
    ],
)
def test_roles_and_scope(principal, roles, member, allowed):
    if allowed:
        assert authorize(principal, roles, member) is principal
    else:
        with pytest.raises(Denied) as raised:
            authorize(principal, roles, member)
        assert raised.value.code == "forbidden"
        assert principal.username in raised.value.detail
