"""The demo consortium, created through the network domain as the central office would.

Every object is written by `netzone.network_service.NetworkService` acting as a system principal
(`netzone-seed`, central-office administrator), so the items have the real shape, versions and
audit entries, and the staff users exist in the Cognito user pool with their groups and scope.

It shows the three topologies the network model supports:

- one library per institution (Pinecrest Community College);
- many libraries in one institution, some grouped in campuses (`kind: campus` and `parent`:
  Lakeshore University, Stonebridge Technical University; Birchwood College has two libraries
  and no campuses);
- a public library with communities and their branches (`kind: community`: Westport).

Every name here is invented. Local only: `set_passwords` gives the demo staff a known password.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from netzone.access import Principal
from netzone.errors import Conflict, Invalid
from netzone.network import (
    ConsortiumBody,
    Contact,
    GroupBody,
    ImportPermissions,
    LibraryBody,
    MemberBody,
    ProviderBody,
    StaffBody,
    StaffUser,
)
from netzone.network_service import NetworkService

SEED_PRINCIPAL = Principal(username="netzone-seed", roles=frozenset({"central_admin"}), member=None)
DEMO_PASSWORD = "Netzone-demo-2026"  # noqa: S105 - local demo only; meets the pool's password policy

CONSORTIUM = ConsortiumBody(
    code="nlc",
    name="Northern Lakes Library Consortium",
    central_office=Contact(name="Network office", email="office@nlc.example.org", phone="+1 555 0100"),
)

MEMBERS = [
    MemberBody(
        code="lku",
        name="Lakeshore University",
        region="north",
        contact=Contact(name="Network office", email="network-office@lakeshore.example.edu"),
        import_permissions=ImportPermissions(bibliographic=True, authority=True),
    ),
    MemberBody(
        code="pcc",
        name="Pinecrest Community College",
        region="north",
        contact=Contact(email="library@pinecrest.example.edu"),
    ),
    MemberBody(
        code="brc",
        name="Birchwood College",
        region="east",
        contact=Contact(email="systems@birchwood.example.edu"),
        import_permissions=ImportPermissions(bibliographic=True),
    ),
    MemberBody(
        code="stu",
        name="Stonebridge Technical University",
        region="east",
        contact=Contact(email="library-it@stonebridge.example.edu"),
    ),
    MemberBody(
        code="wpl",
        name="Westport Public Library",
        region="west",
        status="onboarding",
        contact=Contact(email="catalog@westportlibrary.example.org"),
    ),
]

# Per member, parents (campuses, communities) before the libraries that name them.
LIBRARIES: dict[str, list[LibraryBody]] = {
    "lku": [
        LibraryBody(code="lakeshore", name="Lakeshore main campus", kind="campus"),
        LibraryBody(code="riverside", name="Riverside medical campus", kind="campus"),
        LibraryBody(code="main", name="Hale Memorial Library", parent="lakeshore"),
        LibraryBody(code="law", name="Lakeshore Law Library", parent="lakeshore"),
        LibraryBody(code="med", name="Health Sciences Library", parent="riverside"),
    ],
    "pcc": [LibraryBody(code="main", name="Pinecrest Learning Commons")],
    "brc": [
        LibraryBody(code="main", name="Alder Library"),
        LibraryBody(code="music", name="Conservatory Music Library"),
    ],
    "stu": [
        LibraryBody(code="north", name="Stonebridge north campus", kind="campus"),
        LibraryBody(code="south", name="Stonebridge south campus", kind="campus"),
        LibraryBody(code="eng", name="Engineering Library", parent="north"),
        LibraryBody(code="sci", name="Science Library", parent="south"),
    ],
    "wpl": [
        LibraryBody(code="central", name="Westport Central Library"),
        LibraryBody(code="harborside", name="Harborside community", kind="community"),
        LibraryBody(code="millbrook", name="Millbrook community", kind="community"),
        LibraryBody(code="harborside-branch", name="Harborside Branch Library", parent="harborside"),
        LibraryBody(code="millbrook-branch", name="Millbrook Branch Library", parent="millbrook"),
        LibraryBody(code="millbrook-mobile", name="Millbrook Bookmobile", parent="millbrook"),
    ],
}

# (owner, group): "network" groups belong to the central office, the others to their member.
GROUPS: list[tuple[str, GroupBody]] = [
    (
        "network",
        GroupBody(
            code="north",
            name="Northern region members",
            kind="members",
            items=["lku", "pcc"],
            purposes=["dispatch"],
        ),
    ),
    (
        "network",
        GroupBody(
            code="academic",
            name="Academic members",
            kind="members",
            items=["lku", "brc", "stu"],
            purposes=["dispatch", "search_scope"],
        ),
    ),
    (
        "network",
        GroupBody(
            code="science-libraries",
            name="Science and health libraries",
            kind="libraries",
            items=["lku/med", "stu/sci", "stu/eng"],
            purposes=["availability"],
        ),
    ),
    (
        "lku",
        GroupBody(
            code="professional",
            name="Law and health sciences",
            kind="libraries",
            items=["lku/law", "lku/med"],
            purposes=["availability", "search_scope"],
        ),
    ),
    (
        "wpl",
        GroupBody(
            code="branches",
            name="Westport branches",
            kind="libraries",
            items=["wpl/harborside-branch", "wpl/millbrook-branch", "wpl/millbrook-mobile"],
            purposes=["search_scope"],
        ),
    ),
]

PROVIDERS = [
    ProviderBody(
        code="harbor",
        name="Harbor Press Metadata Services",
        formats=["marc21", "marcxml"],
        source_priority=50,
        feed_mode="incremental",
        management_level="community",
        contact=Contact(email="metadata@harborpress.example.com"),
    ),
    ProviderBody(
        code="meridian",
        name="Meridian Academic Aggregator",
        formats=["marcxml"],
        source_priority=40,
        feed_mode="full",
        management_level="community",
    ),
    ProviderBody(
        code="natlib",
        name="National Library Catalogue Service",
        formats=["marc21"],
        source_priority=90,
        feed_mode="incremental",
        management_level="provider",
    ),
    ProviderBody(
        code="openlink",
        name="OpenLink E-book Collections",
        formats=["kbart"],
        source_priority=30,
        feed_mode="full",
        management_level="provider",
    ),
]

# (member or None for network-wide staff, user)
STAFF: list[tuple[str | None, StaffBody]] = [
    (
        None,
        StaffBody(
            username="central",
            email="central@nlc.example.org",
            name="Central office",
            roles=["central_admin"],
        ),
    ),
    (
        "lku",
        StaffBody(
            username="lku-admin",
            email="lku-admin@lakeshore.example.edu",
            name="Lakeshore administrator",
            roles=["member_admin"],
        ),
    ),
    (
        "lku",
        StaffBody(
            username="lku-cat",
            email="lku-cat@lakeshore.example.edu",
            name="Lakeshore cataloger",
            roles=["cataloger"],
        ),
    ),
    (
        "pcc",
        StaffBody(
            username="pcc-admin",
            email="pcc-admin@pinecrest.example.edu",
            name="Pinecrest administrator",
            roles=["member_admin"],
        ),
    ),
    (
        None,
        StaffBody(
            username="net-cat",
            email="net-cat@nlc.example.org",
            name="Network cataloger (review queue, unmerge)",
            roles=["cataloger"],
        ),
    ),
    (
        None,
        StaffBody(
            username="circ",
            email="circ@nlc.example.org",
            name="Network circulation desk",
            roles=["circulation"],
        ),
    ),
]


@dataclass
class SeedReport:
    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("consortium", "members", "libraries", "groups", "providers", "staff"), 0
        )
    )
    existing: dict[str, int] = field(default_factory=dict)  # already there (a second seed)
    staff: list[StaffUser] = field(default_factory=list)
    libraries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # member -> code/kind/parent
    password: str | None = None  # set by set_passwords
    seconds: float = 0.0  # how long seeding took

    def count(self, kind: str) -> int:
        return self.created.get(kind, 0) + self.existing.get(kind, 0)


def _create(report: SeedReport, kind: str, save: Any, *args: Any) -> Any:
    """Create through the service; an object that already exists is counted, not an error."""
    try:
        result = save(SEED_PRINCIPAL, *args, create=True)
    except Conflict as conflict:
        if conflict.code != "already-exists":
            raise
        report.existing[kind] = report.existing.get(kind, 0) + 1
        return None
    report.created[kind] += 1
    return result


def seed(service: NetworkService) -> SeedReport:
    """Create the demo consortium through `service` (its StaffDirectory creates the Cognito users)."""
    report = SeedReport()
    try:
        service.put_consortium(SEED_PRINCIPAL, CONSORTIUM)
        report.created["consortium"] += 1
    except Invalid as invalid:  # a second seed: the consortium exists and needs its version
        if invalid.code != "version-required":
            raise
        report.existing["consortium"] = 1
    for member in MEMBERS:
        _create(report, "members", service.save_member, member)
    for member, libraries in LIBRARIES.items():
        for library in libraries:
            _create(report, "libraries", service.save_library, member, library)
        report.libraries[member] = [
            {"code": library.code, "kind": library.kind, "parent": library.parent} for library in libraries
        ]
    for owner, group in GROUPS:
        _create(report, "groups", service.save_group, owner, group)
    for provider in PROVIDERS:
        _create(report, "providers", service.save_provider, provider)
    for member, body in STAFF:
        _create(report, "staff", service.save_staff, member, body)
        report.staff.append(service.get_staff(SEED_PRINCIPAL, member, body.username))
    return report


def set_passwords(cognito: Any, user_pool_id: str, report: SeedReport, password: str = DEMO_PASSWORD) -> None:
    """Local demo only: a known permanent password for every demo staff user (no first-login change)."""
    for user in report.staff:
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=user.username, Password=password, Permanent=True
        )
    report.password = password


def seed_stack(
    network_table: str, user_pool_id: str, *, session: Any, region: str = "us-east-1"
) -> SeedReport:
    """Seed a deployed (local) stack: the network table and the staff user pool."""
    from netzone.adapters.cognito import CognitoStaffDirectory
    from netzone.adapters.network_store import DynamoNetworkStore

    started = time.perf_counter()
    cognito = session.client("cognito-idp", region_name=region)
    service = NetworkService(
        DynamoNetworkStore(network_table, client=session.client("dynamodb", region_name=region)),
        CognitoStaffDirectory(user_pool_id, client=cognito),
    )
    report = seed(service)
    set_passwords(cognito, user_pool_id, report)
    report.seconds = time.perf_counter() - started
    return report
