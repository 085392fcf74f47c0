import pytest
from pydantic import ValidationError

from fakes import MemoryNetworkStore, MemoryStaffDirectory
from netzone import network as nw
from netzone.access import Principal
from netzone.errors import KINDS, Conflict, Denied, Invalid, NetzoneError, NotFound
from netzone.network_service import NetworkService

CENTRAL = Principal("central", frozenset({"central_admin"}), None)
LKU_ADMIN = Principal("lku-admin", frozenset({"member_admin"}), "lku")
LKU_CAT = Principal("lku-cat", frozenset({"cataloger"}), "lku")
PCC_ADMIN = Principal("pcc-admin", frozenset({"member_admin"}), "pcc")


@pytest.fixture
def service():
    service = NetworkService(MemoryNetworkStore(), MemoryStaffDirectory())
    for code, name in (("lku", "Lakeshore University"), ("pcc", "Pinecrest Community College")):
        service.save_member(CENTRAL, nw.MemberBody(code=code, name=name), create=True)
    return service


def _kind(call):
    with pytest.raises(NetzoneError) as raised:
        call()
    (kind,) = [k for k in KINDS if isinstance(raised.value, k)]
    return kind


def test_member_admin_manages_own_libraries_only(service):
    body = nw.LibraryBody(code="main", name="Hale Memorial Library")
    created = service.save_library(LKU_ADMIN, "lku", body, create=True)
    assert created.version == 1 and created.member == "lku" and created.updated_by == "lku-admin"
    assert (
        _kind(lambda: service.save_library(PCC_ADMIN, "lku", nw.LibraryBody(code="x", name="X"), True))
        is Denied
    )
    assert _kind(lambda: service.list_libraries(PCC_ADMIN, "lku")) is Denied
    assert _kind(lambda: service.get_library(PCC_ADMIN, "lku", "main")) is Denied
    assert service.list_libraries(LKU_CAT, "lku").items[0]["code"] == "main"


def test_cataloger_cannot_change_members(service):
    body = nw.MemberBody(code="lku", name="Renamed", version=1)
    assert _kind(lambda: service.save_member(LKU_CAT, body, create=False)) is Denied
    assert _kind(lambda: service.save_member(LKU_ADMIN, body, create=False)) is Denied
    assert service.save_member(CENTRAL, body, create=False).name == "Renamed"


def test_stale_version_is_409_and_missing_version_is_422(service):
    service.save_member(CENTRAL, nw.MemberBody(code="lku", name="A", version=1), create=False)
    assert (
        _kind(lambda: service.save_member(CENTRAL, nw.MemberBody(code="lku", name="B", version=1), False))
        is Conflict
    )
    assert _kind(lambda: service.save_member(CENTRAL, nw.MemberBody(code="lku", name="B"), False)) is Invalid
    assert _kind(lambda: service.save_member(CENTRAL, nw.MemberBody(code="lku", name="B"), True)) is Conflict
    assert _kind(lambda: service.get_member(CENTRAL, "nope")) is NotFound


def test_every_change_is_audited_with_before_and_after(service):
    service.save_member(CENTRAL, nw.MemberBody(code="lku", name="Lakeshore U", version=1), create=False)
    page = service.audit_for_member(CENTRAL, "lku")
    latest, first = page.items[0], page.items[-1]
    assert latest["action"] == "update" and latest["actor"] == "central"
    assert latest["before"]["name"] == "Lakeshore University" and latest["after"]["name"] == "Lakeshore U"
    assert first["action"] == "create" and first["before"] is None
    assert service.audit_for_object(CENTRAL, "member", "lku").items == page.items
    assert _kind(lambda: service.audit_for_member(PCC_ADMIN, "lku")) is Denied
    assert service.audit_for_member(LKU_ADMIN, "lku").items


def test_topologies_campus_and_community_parents(service):
    service.save_library(
        LKU_ADMIN, "lku", nw.LibraryBody(code="river", name="Riverside campus", kind="campus"), True
    )
    med = nw.LibraryBody(code="med", name="Health Sciences Library", parent="river")
    assert service.save_library(LKU_ADMIN, "lku", med, True).parent == "river"
    service.save_library(LKU_ADMIN, "lku", nw.LibraryBody(code="law", name="Law Library"), True)
    orphan = nw.LibraryBody(code="x", name="X", parent="law")  # a library is not a campus
    assert _kind(lambda: service.save_library(LKU_ADMIN, "lku", orphan, True)) is Invalid


def test_groups_check_their_items_and_owner(service):
    service.save_library(LKU_ADMIN, "lku", nw.LibraryBody(code="main", name="Main"), True)
    network_group = nw.GroupBody(
        code="north", name="North", kind="members", items=["lku", "pcc"], purposes=["dispatch"]
    )
    assert service.save_group(CENTRAL, "network", network_group, True).items == ["lku", "pcc"]
    assert _kind(lambda: service.save_group(LKU_ADMIN, "network", network_group, True)) is Denied
    assert service.get_group(PCC_ADMIN, "network", "north").code == "north"  # network groups are visible
    own = nw.GroupBody(code="branches", name="Branches", kind="libraries", items=["lku/main"])
    assert service.save_group(LKU_ADMIN, "lku", own, True).owner == "lku"
    assert _kind(lambda: service.get_group(PCC_ADMIN, "lku", "branches")) is Denied
    foreign = nw.GroupBody(code="grab", name="Grab", kind="libraries", items=["pcc/main"])
    assert _kind(lambda: service.save_group(LKU_ADMIN, "lku", foreign, True)) is Invalid
    unknown = nw.GroupBody(code="ghost", name="Ghost", kind="members", items=["zzz"])
    assert _kind(lambda: service.save_group(CENTRAL, "network", unknown, True)) is Invalid
    with pytest.raises(ValidationError):
        nw.Group(owner="network", code="bad", name="Bad", kind="members", items=["lku/main"])


def test_staff_users_are_scoped_and_reach_the_directory(service):
    body = nw.StaffBody(username="lku-cat2", email="cat2@lakeshore.example.edu", roles=["cataloger"])
    user = service.save_staff(LKU_ADMIN, "lku", body, create=True)
    assert user.member == "lku" and service.directory.users["lku-cat2"].roles == ["cataloger"]
    assert _kind(lambda: service.list_staff(PCC_ADMIN, "lku")) is Denied
    assert _kind(lambda: service.get_staff(PCC_ADMIN, "lku", "lku-cat2")) is Denied
    promote = nw.StaffBody(username="lku-boss", email="b@lakeshore.example.edu", roles=["central_admin"])
    assert _kind(lambda: service.save_staff(LKU_ADMIN, "lku", promote, True)) is Invalid
    assert _kind(lambda: service.save_staff(LKU_ADMIN, None, promote, True)) is Denied
    assert service.save_staff(CENTRAL, None, promote, True).member is None


def test_lists_page_without_loading_everything(service):
    for number in range(7):
        service.save_library(
            LKU_ADMIN, "lku", nw.LibraryBody(code=f"b{number}", name=f"Branch {number}"), True
        )
    seen, token = [], None
    while True:
        page = service.list_libraries(LKU_ADMIN, "lku", limit=3, after=token)
        assert len(page.items) <= 3
        seen += [item["code"] for item in page.items]
        if not page.next:
            break
        token = page.next
    assert seen == sorted(f"b{n}" for n in range(7))
    assert _kind(lambda: service.list_libraries(LKU_ADMIN, "lku", limit=500)) is Invalid


def test_bad_bodies_name_the_field():
    with pytest.raises(ValidationError) as raised:
        nw.MemberBody(code="Not A Code", name="")
    fields = {e["loc"][0] for e in raised.value.errors()}
    assert fields == {"code", "name"}


def test_a_username_is_global_and_a_user_changes_only_in_its_own_scope(service):
    boss = nw.StaffBody(username="net-boss", email="boss@example.org", roles=["central_admin"])
    service.save_staff(CENTRAL, None, boss, True)
    takeover = nw.StaffBody(username="net-boss", email="attacker@evil.example", roles=["cataloger"])
    with pytest.raises(Conflict) as taken:
        service.save_staff(LKU_ADMIN, "lku", takeover, True)
    assert taken.value.code == "username-taken"
    assert service.directory.users["net-boss"].email == "boss@example.org"
    # A stale table entry under lku (data from before the fix) does not open the pool's user.
    service.store.items[nw.Ref("staff", "net-boss", "lku")] = service.store.get(
        nw.Ref("staff", "net-boss")
    ) | {
        "member": "lku",
        "roles": ["cataloger"],
    }
    with pytest.raises(Denied) as out_of_scope:
        service.save_staff(LKU_ADMIN, "lku", takeover.model_copy(update={"version": 1}), False)
    assert out_of_scope.value.code == "staff-out-of-scope"
    assert service.directory.users["net-boss"].roles == ["central_admin"]
