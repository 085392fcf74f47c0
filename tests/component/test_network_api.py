import boto3
import pytest
from conftest import staff

CENTRAL = staff("central", "central_admin")
LKU_ADMIN = staff("lku-admin", "member_admin", member="lku")
LKU_CAT = staff("lku-cat", "cataloger", member="lku")
PCC_ADMIN = staff("pcc-admin", "member_admin", member="pcc")


@pytest.fixture
def network(stack):
    for code, name in (("lku", "Lakeshore University"), ("pcc", "Pinecrest Community College")):
        status, body = stack.staff_request(
            "POST", "/members", CENTRAL, {"code": code, "name": name, "region": "north"}
        )
        assert status == 201, body
    status, body = stack.staff_request(
        "POST", "/members/lku/libraries", LKU_ADMIN, {"code": "main", "name": "Hale Library"}
    )
    assert status == 201, body
    return stack


def test_member_admin_cannot_reach_another_members_data(network):
    for path in (
        "/members/lku/libraries",
        "/members/lku/libraries/main",
        "/members/lku/groups",
        "/members/lku/staff",
        "/members/lku/audit",
    ):
        status, body = network.staff_request("GET", path, PCC_ADMIN)
        assert status == 403, path
        assert (
            body["code"] == "forbidden" and "pcc-admin" in body["detail"] and "member lku" in body["detail"]
        )
    status, _ = network.staff_request("POST", "/members/lku/libraries", PCC_ADMIN, {"code": "x", "name": "X"})
    assert status == 403
    status, body = network.staff_request("GET", "/members/lku/libraries", LKU_ADMIN)
    assert status == 200 and [i["code"] for i in body["items"]] == ["main"]


def test_cataloger_cannot_change_members(network):
    status, body = network.staff_request(
        "PUT", "/members/lku", LKU_CAT, {"code": "lku", "name": "X", "version": 1}
    )
    assert status == 403 and "central-office administrator" in body["detail"]
    status, body = network.staff_request("GET", "/members/lku", LKU_CAT)
    assert status == 200 and body["name"] == "Lakeshore University"


def test_central_admin_does_everything_and_versions_guard_writes(network):
    status, member = network.staff_request("GET", "/members/pcc", CENTRAL)
    change = {k: member[k] for k in ("code", "name", "region", "status")} | {
        "import_permissions": {"bibliographic": True, "authority": False},
        "version": member["version"],
    }
    status, updated = network.staff_request("PUT", "/members/pcc", CENTRAL, change)
    assert status == 200 and updated["version"] == member["version"] + 1
    assert updated["import_permissions"]["bibliographic"] is True
    status, body = network.staff_request("PUT", "/members/pcc", CENTRAL, change)  # the same, stale version
    assert status == 409 and body["code"] == "stale-version"
    provider = {"code": "harbor", "name": "Harbor Press", "formats": ["marc21"], "source_priority": 70}
    assert network.staff_request("POST", "/providers", CENTRAL, provider)[0] == 201
    group = {
        "code": "north",
        "name": "North",
        "kind": "members",
        "items": ["lku", "pcc"],
        "purposes": ["dispatch"],
    }
    assert network.staff_request("POST", "/groups", CENTRAL, group)[0] == 201
    status, audit = network.staff_request("GET", "/audit", CENTRAL, query={"object": "member:pcc"})
    assert status == 200 and [e["action"] for e in audit["items"]] == ["update", "create"]


def test_staff_users_become_cognito_users_with_roles_and_scope(network):
    body = {"username": "lku-cat2", "email": "cat2@lakeshore.example.edu", "roles": ["cataloger"]}
    status, user = network.staff_request("POST", "/members/lku/staff", LKU_ADMIN, body)
    assert status == 201 and user["member"] == "lku"
    pool = network.deployment.name_of("StaffUserPool")
    pool_id = network.deployment.resources["StaffUserPool"].ref
    cognito = boto3.client("cognito-idp")
    got = cognito.admin_get_user(UserPoolId=pool_id, Username="lku-cat2")
    attributes = {a["Name"]: a["Value"] for a in got["UserAttributes"]}
    assert attributes["custom:member"] == "lku", pool
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username="lku-cat2")["Groups"]
    assert [g["GroupName"] for g in groups] == ["cataloger"]
    status, body = network.staff_request(
        "POST", "/members/lku/staff", LKU_ADMIN, body | {"username": "lku-boss", "roles": ["central_admin"]}
    )
    assert status == 422 and body["code"] == "invalid-role"


def test_bad_request_names_the_field(network):
    status, body = network.staff_request("POST", "/members", CENTRAL, {"code": "Bad Code", "name": ""})
    assert status == 422 and body["code"] == "invalid-request"
    assert {e["field"] for e in body["errors"]} == {"code", "name"}
    status, body = network.staff_request("GET", "/members", CENTRAL, query={"limit": "1000"})
    assert status == 422 and body["errors"][0]["field"].endswith("limit")
    status, body = network.staff_request("GET", "/members/nope", CENTRAL)
    assert status == 404 and body["code"] == "member-not-found"


def test_members_page_with_next_tokens(network):
    status, first = network.staff_request("GET", "/members", CENTRAL, query={"limit": "1"})
    assert status == 200 and len(first["items"]) == 1 and first["next"]
    status, second = network.staff_request(
        "GET", "/members", CENTRAL, query={"limit": "1", "next": first["next"]}
    )
    assert [m["code"] for m in first["items"] + second["items"]] == ["lku", "pcc"]
    status, body = network.staff_request("GET", "/members", CENTRAL, query={"next": "garbage"})
    assert status == 422 and body["code"] == "invalid-next-token"


def test_no_identity_is_401(network):
    status, body = network.staff_request("GET", "/members", None)
    assert status == 401 and body["code"] == "unauthenticated"


def test_openapi_document_is_generated_from_the_routes(network):
    status, document = network.staff_request("GET", "/openapi.json", None)
    assert status == 200 and document["openapi"].startswith("3.")
    assert {"/members", "/members/{member}/libraries", "/groups", "/providers", "/audit"} <= set(
        document["paths"]
    )
    assert "MemberBody" in str(document["components"])
