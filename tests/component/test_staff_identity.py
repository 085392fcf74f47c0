"""Staff identity cannot be hijacked: a username is global to the user pool, and a staff user is
changed only within the caller's scope, checked against the pool itself (issue 11, finding 1).

The matrix: member administrators of lku and pcc and a cataloger of lku try to create (over an
existing username), update and disable users of their own member, of the other member and of
the network (a central-office administrator). Only their own users move; every refusal leaves
the user pool and the staff directory exactly as they were.
"""

import boto3
import pytest
from conftest import staff

CENTRAL = staff("central", "central_admin")
LKU_ADMIN = staff("lku-admin", "member_admin", member="lku")
LKU_CAT = staff("lku-cat", "cataloger", member="lku")
PCC_ADMIN = staff("pcc-admin", "member_admin", member="pcc")

USERS = {
    # username: (path it lives under, roles)
    "net-boss": ("/staff", ["central_admin"]),
    "lku-clerk": ("/members/lku/staff", ["circulation"]),
    "pcc-clerk": ("/members/pcc/staff", ["circulation"]),
}


def _pool(stack):
    return boto3.client("cognito-idp"), stack.deployment.env_for("NetworkApiFunction")["STAFF_USER_POOL_ID"]


def _pool_state(stack, username: str) -> dict:
    cognito, pool = _pool(stack)
    user = cognito.admin_get_user(UserPoolId=pool, Username=username)
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"]
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    return {
        "email": attributes.get("email"),
        "member": attributes.get("custom:member"),
        "enabled": user["Enabled"],
        "groups": sorted(g["GroupName"] for g in groups),
    }


@pytest.fixture
def network(stack):
    for code, name in (("lku", "Lakeshore University"), ("pcc", "Pinecrest Community College")):
        status, body = stack.staff_request("POST", "/members", CENTRAL, {"code": code, "name": name})
        assert status == 201, body
    for username, (path, roles) in USERS.items():
        body = {"username": username, "email": f"{username}@example.org", "roles": roles}
        status, created = stack.staff_request("POST", path, CENTRAL, body)
        assert status == 201, created
    return stack


def _snapshot(stack) -> dict:
    state = {}
    for username, (path, _) in USERS.items():
        status, record = stack.staff_request("GET", f"{path}/{username}", CENTRAL)
        assert status == 200, record
        state[username] = (_pool_state(stack, username), record)
    return state


ACTORS = {"lku-admin": LKU_ADMIN, "pcc-admin": PCC_ADMIN, "lku-cat": LKU_CAT}
# (actor, target): may the actor change the target's account?
ALLOWED = {("lku-admin", "lku-clerk"), ("pcc-admin", "pcc-clerk")}


@pytest.mark.parametrize("actor", sorted(ACTORS))
@pytest.mark.parametrize("target", sorted(USERS))
def test_creating_over_an_existing_username_is_refused_and_changes_nothing(network, actor, target):
    before = _snapshot(network)
    for path in ("/members/lku/staff", "/members/pcc/staff", "/staff"):
        takeover = {"username": target, "email": "attacker@evil.example", "roles": ["cataloger"]}
        for enabled in (True, False):
            status, body = network.staff_request("POST", path, ACTORS[actor], takeover | {"enabled": enabled})
            assert status in (403, 409), (path, status, body)
            assert body["code"] in ("forbidden", "username-taken", "already-exists"), body
            assert "attacker" not in str(body)
    assert _snapshot(network) == before


@pytest.mark.parametrize("actor", sorted(ACTORS))
@pytest.mark.parametrize("target", sorted(USERS))
@pytest.mark.parametrize("change", ["update", "disable"])
def test_a_staff_user_changes_only_within_the_callers_scope(network, actor, target, change):
    home, roles = USERS[target]
    status, current = network.staff_request("GET", f"{home}/{target}", CENTRAL)
    assert status == 200
    body = {
        "username": target,
        "email": "changed@example.org" if change == "update" else current["email"],
        "roles": roles,
        "enabled": change != "disable",
        "version": current["version"],
    }
    before = _snapshot(network)
    for path in ("/members/lku/staff", "/members/pcc/staff", "/staff"):
        if (actor, target) in ALLOWED and path == home:
            continue
        status, refused = network.staff_request("PUT", f"{path}/{target}", ACTORS[actor], body)
        assert status in (403, 404, 422), (path, status, refused)
    assert _snapshot(network) == before
    if (actor, target) in ALLOWED:
        status, changed = network.staff_request("PUT", f"{home}/{target}", ACTORS[actor], body)
        assert status == 200, changed
        pool = _pool_state(network, target)
        assert pool["email"] == body["email"] and pool["enabled"] is body["enabled"]
        assert pool["member"] == home.split("/")[2] and pool["groups"] == roles


def test_a_table_entry_in_the_wrong_scope_does_not_open_the_pool_user(network):
    """Data left by the old bug: lku's directory lists the central administrator. The pool says
    whose user it is, so lku's administrator still cannot change it."""
    from netzone.adapters.dynamodb import to_item

    table = network.deployment.env_for("NetworkApiFunction")["NETWORK_TABLE"]
    status, boss = network.staff_request("GET", "/staff/net-boss", CENTRAL)
    forged = {k: v for k, v in boss.items() if v is not None} | {"member": "lku", "roles": ["cataloger"]}
    boto3.client("dynamodb").put_item(
        TableName=table, Item=to_item({"pk": "NETWORK", "sk": "STAFF#lku#net-boss", **forged})
    )
    before = _pool_state(network, "net-boss")
    body = {
        "username": "net-boss",
        "email": "attacker@evil.example",
        "roles": ["cataloger"],
        "enabled": False,
        "version": boss["version"],
    }
    status, refused = network.staff_request("PUT", "/members/lku/staff/net-boss", LKU_ADMIN, body)
    assert status == 403 and refused["code"] == "staff-out-of-scope", refused
    assert _pool_state(network, "net-boss") == before


def test_network_wide_staff_change_in_step_with_the_pool(network):
    """PUT /staff/{username} answered 502 after saving (the pool refused to remove an attribute
    the user never had): now the pool and the directory change together, or neither does."""
    status, boss = network.staff_request("GET", "/staff/net-boss", CENTRAL)
    body = {
        "username": "net-boss",
        "email": "boss@example.org",
        "name": "Network Boss",
        "roles": ["central_admin", "cataloger"],
        "version": boss["version"],
    }
    status, changed = network.staff_request("PUT", "/staff/net-boss", CENTRAL, body)
    assert status == 200, changed
    assert changed["version"] == boss["version"] + 1
    assert _pool_state(network, "net-boss")["groups"] == ["cataloger", "central_admin"]
    stale_status, stale = network.staff_request(
        "PUT", "/staff/net-boss", CENTRAL, body | {"roles": ["cataloger"]}
    )
    assert stale_status == 409 and stale["code"] == "stale-version"
    assert _pool_state(network, "net-boss")["groups"] == ["cataloger", "central_admin"]


def test_staff_changes_are_audited_where_the_users_member_sees_them(network):
    status, clerk = network.staff_request("GET", "/members/lku/staff/lku-clerk", CENTRAL)
    body = {"username": "lku-clerk", "email": clerk["email"], "roles": ["circulation"], "enabled": False}
    status, _ = network.staff_request("PUT", "/members/lku/staff/lku-clerk", CENTRAL, body | {"version": 1})
    assert status == 200
    status, audit = network.staff_request("GET", "/members/lku/audit", LKU_ADMIN)
    assert status == 200
    entries = [e for e in audit["items"] if e["object_id"] == "lku/lku-clerk"]
    assert [e["action"] for e in entries] == ["update", "create"]
    assert entries[0]["actor"] == "central" and entries[0]["after"]["enabled"] is False


def test_a_failed_directory_write_leaves_no_pool_user_behind(network, monkeypatch):
    """Create claims the username in the pool first; if the directory write then fails, the pool
    user is removed again, so the two agree and the name can be used."""
    handler = network.handlers["NetworkApiFunction"]

    def broken_write(*args, **kwargs):
        raise RuntimeError("the network table is unavailable")

    monkeypatch.setattr(handler.network_store, "write", broken_write)
    body = {"username": "lku-new", "email": "new@example.org", "roles": ["cataloger"]}
    status, failed = network.staff_request("POST", "/members/lku/staff", LKU_ADMIN, body)
    assert status == 500 and failed["code"] == "internal-error" and "unavailable" not in failed["detail"]
    cognito, pool = _pool(network)
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool, Username="lku-new")
    monkeypatch.undo()
    status, created = network.staff_request("POST", "/members/lku/staff", LKU_ADMIN, body)
    assert status == 201, created
