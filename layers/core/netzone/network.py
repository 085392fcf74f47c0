"""The network model: the consortium, its members, their libraries, groups, providers and staff.

Every topology a consortium has fits: one library per institution, many libraries (or
campuses) in one institution, many communities in one institution (`Library.kind` and
`Library.parent`). Groups gather members or libraries for dispatch targets, "available for"
groups and search scopes; a group belongs to the network or to one member.

`NetworkService` is plain Python over two ports (`NetworkStore`, `StaffDirectory`): it checks
the caller's role and scope (`netzone.access`), writes with the object's version (a stale
version is a 409), and records every change in the audit trail (who, when, what, before, after)
in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, field_validator, model_validator

from netzone import access
from netzone.access import Principal
from netzone.feeds import audit_id, now
from netzone.models import StrictModel
from netzone.problems import Problem

CODE = r"^[a-z0-9][a-z0-9_-]{0,31}$"
CODE_HINT = "1-32 lower-case letters, digits, '_' or '-', starting with a letter or digit"
MAX_PAGE = 100
# A plausible address; delivery is what proves it (pydantic's EmailStr needs another package).
EmailStr = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class _Model(StrictModel):
    pass


class Contact(_Model):
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)


class ImportPermissions(_Model):
    """Which records a member may contribute to the network (Alma's 'control NZ imports')."""

    bibliographic: bool = False
    authority: bool = False


# ---------------------------------------------------------------- objects (what the API returns)


class Stored(_Model):
    version: int = 0
    created_at: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None


class Consortium(Stored):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    central_office: Contact = Field(default_factory=Contact)


class Member(Stored):
    code: str = Field(pattern=CODE, description=f"member code: {CODE_HINT}")
    name: str = Field(min_length=1, max_length=200)
    region: str | None = Field(default=None, max_length=100)
    status: Literal["onboarding", "active", "suspended", "left"] = "active"
    contact: Contact = Field(default_factory=Contact)
    import_permissions: ImportPermissions = Field(default_factory=ImportPermissions)


class Library(Stored):
    member: str = Field(pattern=CODE)
    code: str = Field(pattern=CODE, description=f"library code, unique within its member: {CODE_HINT}")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["library", "campus", "community"] = "library"
    parent: str | None = Field(
        default=None, pattern=CODE, description="code of the campus or community it belongs to"
    )
    status: Literal["active", "closed"] = "active"
    contact: Contact = Field(default_factory=Contact)


class Group(Stored):
    owner: str = Field(description='"network" or the code of the member that owns the group')
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["members", "libraries"]
    items: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description='member codes (kind "members") or "<member>/<library>" codes (kind "libraries")',
    )
    purposes: list[Literal["dispatch", "availability", "search_scope"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _items_match_kind(self) -> Group:
        for item in self.items:
            parts = item.split("/")
            if (self.kind == "members") != (len(parts) == 1):
                shape = "a member code" if self.kind == "members" else '"<member>/<library>"'
                raise ValueError(f"group of {self.kind}: item {item!r} must be {shape}")
        return self


class Provider(Stored):
    code: str = Field(pattern=CODE, description=f"provider code, as in feeds/<provider>/: {CODE_HINT}")
    name: str = Field(min_length=1, max_length=200)
    formats: list[Literal["marc21", "marcxml", "marc-json", "kbart"]] = Field(min_length=1)
    source_priority: int = Field(default=50, ge=1, le=100, description="higher wins when merging records")
    feed_mode: Literal["incremental", "full"] = "incremental"
    management_level: Literal["provider", "community"] = "provider"
    contact: Contact = Field(default_factory=Contact)


class StaffUser(Stored):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._@-]{2,63}$")
    email: EmailStr
    name: str | None = Field(default=None, max_length=200)
    member: str | None = Field(default=None, pattern=CODE, description="null: network-wide staff")
    roles: list[Literal["central_admin", "member_admin", "cataloger", "circulation"]] = Field(min_length=1)
    enabled: bool = True

    @model_validator(mode="after")
    def _central_is_network_wide(self) -> StaffUser:
        if "central_admin" in self.roles and self.member is not None:
            raise ValueError("a central-office administrator is network-wide: leave member empty")
        return self


Item = TypeVar("Item")


class AuditEntry(_Model):
    id: str
    at: str
    actor: str
    actor_member: str | None = None
    action: Literal["create", "update"]
    object_type: str
    object_id: str
    member: str | None = None  # the member whose data changed; None for network objects
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class Page(BaseModel, Generic[Item]):
    """One page of a list; `Page[Member]` and the like name what the items are."""

    items: list[Item]
    next: str | None = Field(default=None, description="pass as ?next= to get the following page")


# ---------------------------------------------------------------- request bodies


class _Body(_Model):
    pass


class ConsortiumBody(_Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    central_office: Contact = Field(default_factory=Contact)
    version: int | None = Field(default=None, description="the version you read; omit to create")


class MemberBody(_Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    region: str | None = None
    status: Literal["onboarding", "active", "suspended", "left"] = "active"
    contact: Contact = Field(default_factory=Contact)
    import_permissions: ImportPermissions = Field(default_factory=ImportPermissions)
    version: int | None = None


class LibraryBody(_Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["library", "campus", "community"] = "library"
    parent: str | None = Field(default=None, pattern=CODE)
    status: Literal["active", "closed"] = "active"
    contact: Contact = Field(default_factory=Contact)
    version: int | None = None


class GroupBody(_Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["members", "libraries"]
    items: list[str] = Field(default_factory=list, max_length=1000)
    purposes: list[Literal["dispatch", "availability", "search_scope"]] = Field(default_factory=list)
    version: int | None = None


class ProviderBody(_Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    formats: list[Literal["marc21", "marcxml", "marc-json", "kbart"]] = Field(min_length=1)
    source_priority: int = Field(default=50, ge=1, le=100)
    feed_mode: Literal["incremental", "full"] = "incremental"
    management_level: Literal["provider", "community"] = "provider"
    contact: Contact = Field(default_factory=Contact)
    version: int | None = None


class StaffBody(_Body):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._@-]{2,63}$")
    email: EmailStr
    name: str | None = None
    roles: list[Literal["central_admin", "member_admin", "cataloger", "circulation"]] = Field(min_length=1)
    enabled: bool = True
    version: int | None = None

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[str]) -> list[str]:
        return sorted(set(roles))


# ---------------------------------------------------------------- ports


class NetworkStore(Protocol):
    def get(self, key: str) -> dict | None: ...
    def get_many(self, keys: list[str]) -> dict[str, dict]: ...
    def page(self, prefix: str, limit: int, after: str | None) -> tuple[list[dict], str | None]: ...
    def write(self, key: str, item: dict, expected_version: int | None, audit: AuditEntry) -> None:
        """Put `item` if the stored version is `expected_version` (None: must not exist), with
        the audit entry, in one transaction; raise VersionMismatch otherwise."""
        ...

    def audit_page(self, scope: str, limit: int, after: str | None) -> tuple[list[dict], str | None]: ...


@dataclass(frozen=True)
class PoolUser:
    """What the identity provider holds of a staff user: the scope it was created in."""

    username: str
    member: str | None  # None: network-wide


class StaffDirectory(Protocol):
    """The identity provider's side of a staff user (Cognito on AWS and locally).

    A username is global to the pool: `create` never touches an existing user (it raises
    `UsernameTaken`), and `update` never changes the scope a user was created in."""

    def lookup(self, username: str) -> PoolUser | None: ...
    def create(self, user: StaffUser) -> None: ...
    def update(self, user: StaffUser) -> None: ...
    def delete(self, username: str) -> None: ...


class UsernameTaken(Exception):
    """The identity provider already has a user of that name (in whatever scope)."""


class VersionMismatch(Exception):
    def __init__(self, current: int | None):
        super().__init__(current)
        self.current = current


# ---------------------------------------------------------------- keys


def consortium_key() -> str:
    return "CONSORTIUM"


def member_key(code: str) -> str:
    return f"MEMBER#{code}"


def library_key(member: str, code: str = "") -> str:
    return f"LIBRARY#{member}#{code}"


def group_key(owner: str, code: str = "") -> str:
    return f"GROUP#{owner}#{code}"


def provider_key(code: str = "") -> str:
    return f"PROVIDER#{code}"


def staff_key(member: str | None, username: str = "") -> str:
    return f"STAFF#{member or '-'}#{username}"


def audit_scopes(entry: AuditEntry) -> list[str]:
    """Audit partitions an entry is listed under: per member (or network) and per object."""
    return [f"MEMBER#{entry.member or '-'}", f"OBJECT#{entry.object_type}#{entry.object_id}"]


# ---------------------------------------------------------------- the service


@dataclass
class NetworkService:
    store: NetworkStore
    directory: StaffDirectory | None = None
    clock: Callable[[], str] = now

    # -- generic plumbing
    def _save(
        self,
        principal: Principal,
        key: str,
        model: type[Stored],
        body: _Body,
        object_type: str,
        object_id: str,
        member: str | None,
        create: bool,
        extra: dict[str, Any] | None = None,
    ) -> Stored:
        before = self.store.get(key)
        if create and before is not None:
            raise Problem(
                409, "already-exists", f"{object_type} {object_id} already exists; PUT it to change it"
            )
        if not create and before is None:
            raise Problem(
                404, f"{object_type}-not-found", f"no {object_type} {object_id}; POST it to create it"
            )
        if not create and body.version is None:
            raise Problem(
                422,
                "version-required",
                f"send the version you read (currently {before['version']}) so no change is lost",
            )
        stamp = self.clock()
        fields = body.model_dump(exclude={"version"}) | (extra or {})
        version = 1 if before is None else int(before["version"]) + 1
        item = model(
            **fields,
            version=version,
            created_at=before.get("created_at") if before else stamp,
            updated_at=stamp,
            updated_by=principal.username,
        )
        after = item.model_dump(mode="json")
        entry = AuditEntry(
            id=audit_id(),
            at=stamp,
            actor=principal.username,
            actor_member=principal.member,
            action="create" if before is None else "update",
            object_type=object_type,
            object_id=object_id,
            member=member,
            before=before,
            after=after,
        )
        try:
            self.store.write(key, after, None if before is None else body.version, entry)
        except VersionMismatch as mismatch:
            if mismatch.current is None:
                raise Problem(
                    404, f"{object_type}-not-found", f"{object_type} {object_id} was removed"
                ) from mismatch
            if before is None:
                raise Problem(
                    409, "already-exists", f"{object_type} {object_id} was just created by someone else"
                ) from mismatch
            raise Problem(
                409,
                "stale-version",
                f"{object_type} {object_id} is at version {mismatch.current}, you sent {body.version}: "
                "read it again, reapply your change and send the new version",
            ) from mismatch
        return item

    def _get(self, key: str, model: type[BaseModel], object_type: str, object_id: str) -> Any:
        item = self.store.get(key)
        if item is None:
            raise Problem(404, f"{object_type}-not-found", f"no {object_type} {object_id}")
        return model(**item)

    def _page(self, prefix: str, limit: int, after: str | None) -> Page:
        if not 1 <= limit <= MAX_PAGE:
            raise Problem(422, "invalid-limit", f"limit must be between 1 and {MAX_PAGE}")
        items, next_token = self.store.page(prefix, limit, after)
        return Page(items=items, next=next_token)

    def _member_exists(self, code: str) -> None:
        if self.store.get(member_key(code)) is None:
            raise Problem(404, "member-not-found", f"no member {code}; create it with POST /members first")

    # -- consortium
    def get_consortium(self, principal: Principal) -> Consortium:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._get(consortium_key(), Consortium, "consortium", "network")

    def put_consortium(self, principal: Principal, body: ConsortiumBody) -> Consortium:
        access.authorize(principal, access.CENTRAL_ONLY)
        create = self.store.get(consortium_key()) is None
        return self._save(
            principal, consortium_key(), Consortium, body, "consortium", "network", None, create
        )  # type: ignore[return-value]

    # -- members
    def list_members(self, principal: Principal, limit: int = 50, after: str | None = None) -> Page:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._page(member_key(""), limit, after)

    def get_member(self, principal: Principal, code: str) -> Member:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._get(member_key(code), Member, "member", code)

    def save_member(self, principal: Principal, body: MemberBody, create: bool) -> Member:
        access.authorize(principal, access.CENTRAL_ONLY)
        return self._save(
            principal, member_key(body.code), Member, body, "member", body.code, body.code, create
        )  # type: ignore[return-value]

    # -- libraries
    def list_libraries(
        self, principal: Principal, member: str, limit: int = 50, after: str | None = None
    ) -> Page:
        access.authorize(principal, access.MEMBER_STAFF, member=member)
        return self._page(library_key(member), limit, after)

    def list_all_libraries(self, principal: Principal, limit: int = 50, after: str | None = None) -> Page:
        access.authorize(principal, access.MEMBER_STAFF, member=None)
        return self._page("LIBRARY#", limit, after)

    def get_library(self, principal: Principal, member: str, code: str) -> Library:
        access.authorize(principal, access.MEMBER_STAFF, member=member)
        return self._get(library_key(member, code), Library, "library", f"{member}/{code}")

    def save_library(self, principal: Principal, member: str, body: LibraryBody, create: bool) -> Library:
        access.authorize(principal, access.MEMBER_ADMIN, member=member)
        self._member_exists(member)
        if body.parent:
            parent = self.store.get(library_key(member, body.parent))
            if parent is None or parent.get("kind") not in ("campus", "community"):
                raise Problem(
                    422,
                    "invalid-parent",
                    f"parent {body.parent!r} must be a campus or community of member {member}",
                )
        key = library_key(member, body.code)
        return self._save(
            principal,
            key,
            Library,
            body,
            "library",
            f"{member}/{body.code}",
            member,
            create,
            {"member": member},
        )  # type: ignore[return-value]

    # -- groups (owner "network" or a member code)
    def list_groups(
        self, principal: Principal, owner: str, limit: int = 50, after: str | None = None
    ) -> Page:
        self._authorize_group(principal, owner, write=False)
        return self._page(group_key(owner), limit, after)

    def get_group(self, principal: Principal, owner: str, code: str) -> Group:
        self._authorize_group(principal, owner, write=False)
        return self._get(group_key(owner, code), Group, "group", f"{owner}/{code}")

    def save_group(self, principal: Principal, owner: str, body: GroupBody, create: bool) -> Group:
        self._authorize_group(principal, owner, write=True)
        if owner != "network":
            self._member_exists(owner)
        self._check_group_items(owner, body)
        key = group_key(owner, body.code)
        member = None if owner == "network" else owner
        return self._save(
            principal, key, Group, body, "group", f"{owner}/{body.code}", member, create, {"owner": owner}
        )  # type: ignore[return-value]

    def _authorize_group(self, principal: Principal, owner: str, write: bool) -> None:
        if owner == "network":
            access.authorize(
                principal,
                access.CENTRAL_ONLY if write else access.READ_DIRECTORY,
                member=None if write else principal.member,
            )
        else:
            access.authorize(principal, access.MEMBER_ADMIN if write else access.MEMBER_STAFF, member=owner)

    def _check_group_items(self, owner: str, body: GroupBody) -> None:
        """Every item names something that exists; a member's group holds only its own libraries."""
        keys = []
        for item in body.items:
            if body.kind == "members":
                keys.append(member_key(item))
            else:
                member, _, library = item.partition("/")
                if owner != "network" and member != owner:
                    raise Problem(
                        422,
                        "invalid-group-item",
                        f"a group of member {owner} may only hold its own libraries, not {item}",
                    )
                keys.append(library_key(member, library))
        found = self.store.get_many(keys)
        missing = [item for item, key in zip(body.items, keys, strict=True) if key not in found]
        if missing:
            raise Problem(422, "unknown-group-items", f"these do not exist: {', '.join(missing[:20])}")

    # -- providers
    def list_providers(self, principal: Principal, limit: int = 50, after: str | None = None) -> Page:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._page(provider_key(), limit, after)

    def get_provider(self, principal: Principal, code: str) -> Provider:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._get(provider_key(code), Provider, "provider", code)

    def save_provider(self, principal: Principal, body: ProviderBody, create: bool) -> Provider:
        access.authorize(principal, access.CENTRAL_ONLY)
        return self._save(
            principal, provider_key(body.code), Provider, body, "provider", body.code, None, create
        )  # type: ignore[return-value]

    # -- staff users (member None: network-wide staff)
    def list_staff(
        self, principal: Principal, member: str | None, limit: int = 50, after: str | None = None
    ) -> Page:
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        return self._page(staff_key(member), limit, after)

    def get_staff(self, principal: Principal, member: str | None, username: str) -> StaffUser:
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        return self._get(staff_key(member, username), StaffUser, "staff", f"{member or 'network'}/{username}")

    def save_staff(
        self, principal: Principal, member: str | None, body: StaffBody, create: bool
    ) -> StaffUser:
        """Create or change a staff user in the directory (table) and the user pool together.

        The pool is the authority on who a username is: a create claims the name there first
        (an existing name is a 409, never an update), a change is allowed only when the pool
        says the user belongs to the path's scope. The pool is written before the table and
        put back if the table write fails, so the two never disagree.
        """
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        if member:
            self._member_exists(member)
            if "central_admin" in body.roles:
                raise Problem(
                    422, "invalid-role", "central_admin is a network-wide role: create it under /staff"
                )
        try:
            StaffUser(**body.model_dump(exclude={"version"}), member=member)
        except ValueError as error:
            raise Problem(422, "invalid-staff", str(error)) from error
        key = staff_key(member, body.username)
        object_id = f"{member or 'network'}/{body.username}"
        save = partial(
            self._save,
            principal,
            key,
            StaffUser,
            body,
            "staff",
            object_id,
            member,
            create,
            {"member": member},
        )
        if self.directory is None:
            return save()  # type: ignore[return-value]
        before = self.store.get(key)
        if create:
            return self._create_staff(principal, before, body, member, save)
        if before is None:
            raise Problem(404, "staff-not-found", f"no staff {object_id}; POST it to create it")
        pooled = self.directory.lookup(body.username)
        if pooled is None or pooled.member != member:
            raise Problem(
                403,
                "staff-out-of-scope",
                f"{body.username} is not a staff user of {'the network' if member is None else 'member ' + member}"
                " in the user pool, so it cannot be changed here",
            )
        current = StaffUser(**before)
        proposed = StaffUser(**body.model_dump(exclude={"version"}), member=member)
        if body.version != current.version:
            save()  # raises version-required or stale-version before the pool is touched
        self.directory.update(proposed)
        try:
            return save()  # type: ignore[return-value]
        except BaseException:
            self.directory.update(current)  # put the pool back: the table did not change
            raise

    def _create_staff(
        self,
        principal: Principal,
        before: dict | None,
        body: StaffBody,
        member: str | None,
        save: Callable[[], Stored],
    ) -> StaffUser:
        assert self.directory is not None
        if before is not None:
            save()  # raises already-exists
        user = StaffUser(**body.model_dump(exclude={"version"}), member=member)
        try:
            self.directory.create(user)
        except UsernameTaken as taken:
            raise Problem(
                409,
                "username-taken",
                f"the username {body.username} is taken in the staff user pool; choose another",
            ) from taken
        try:
            return save()  # type: ignore[return-value]
        except BaseException:
            self.directory.delete(body.username)  # release the name: the directory has no such user
            raise

    # -- audit
    def audit_for_member(
        self, principal: Principal, member: str | None, limit: int = 50, after: str | None = None
    ) -> Page:
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        if not 1 <= limit <= MAX_PAGE:
            raise Problem(422, "invalid-limit", f"limit must be between 1 and {MAX_PAGE}")
        items, next_token = self.store.audit_page(f"MEMBER#{member or '-'}", limit, after)
        return Page(items=items, next=next_token)

    def audit_for_object(
        self,
        principal: Principal,
        object_type: str,
        object_id: str,
        limit: int = 50,
        after: str | None = None,
    ) -> Page:
        member = _member_of(object_type, object_id)
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        if not 1 <= limit <= MAX_PAGE:
            raise Problem(422, "invalid-limit", f"limit must be between 1 and {MAX_PAGE}")
        items, next_token = self.store.audit_page(f"OBJECT#{object_type}#{object_id}", limit, after)
        return Page(items=items, next=next_token)


def _member_of(object_type: str, object_id: str) -> str | None:
    """The member whose data an object is, from its id (`lku`, `lku/main`, `network/x`)."""
    if object_type == "member":
        return object_id
    if object_type in ("library", "group", "staff"):
        owner = object_id.split("/", 1)[0]
        return None if owner == "network" else owner
    return None  # consortium and providers: central office only
