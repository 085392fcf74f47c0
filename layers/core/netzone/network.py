"""The network model: the consortium, its members, their libraries, groups, providers and staff.

Every topology a consortium has fits: one library per institution, many libraries (or
campuses) in one institution, many communities in one institution (`Library.kind` and
`Library.parent`). Groups gather members or libraries for dispatch targets, "available for"
groups and search scopes; a group belongs to the network or to one member.

Here are the objects (what the API returns), the request bodies, and the ports the service
(`netzone.network_service`) works over: `NetworkStore` names objects by `Ref` (kind, owner,
code) and leaves how they are keyed to the adapter; `StaffDirectory` is the identity provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, field_validator, model_validator

from netzone.models import StrictModel

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


class Body(_Model):
    # What every body holds besides its fields: the `version` the client read (None: create).
    pass


class ConsortiumBody(Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    central_office: Contact = Field(default_factory=Contact)
    version: int | None = Field(default=None, description="the version you read; omit to create")


class MemberBody(Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    region: str | None = None
    status: Literal["onboarding", "active", "suspended", "left"] = "active"
    contact: Contact = Field(default_factory=Contact)
    import_permissions: ImportPermissions = Field(default_factory=ImportPermissions)
    version: int | None = None


class LibraryBody(Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["library", "campus", "community"] = "library"
    parent: str | None = Field(default=None, pattern=CODE)
    status: Literal["active", "closed"] = "active"
    contact: Contact = Field(default_factory=Contact)
    version: int | None = None


class GroupBody(Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["members", "libraries"]
    items: list[str] = Field(default_factory=list, max_length=1000)
    purposes: list[Literal["dispatch", "availability", "search_scope"]] = Field(default_factory=list)
    version: int | None = None


class ProviderBody(Body):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    formats: list[Literal["marc21", "marcxml", "marc-json", "kbart"]] = Field(min_length=1)
    source_priority: int = Field(default=50, ge=1, le=100)
    feed_mode: Literal["incremental", "full"] = "incremental"
    management_level: Literal["provider", "community"] = "provider"
    contact: Contact = Field(default_factory=Contact)
    version: int | None = None


class StaffBody(Body):
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


# ---------------------------------------------------------------- naming objects

ObjectKind = Literal["consortium", "member", "library", "group", "provider", "staff"]


@dataclass(frozen=True)
class Ref:
    """A network object by what the domain calls it; the store decides how it is keyed.

    `owner` is what the object belongs to: a library's member, a group's owner ("network" or a
    member code), a staff user's member (None: network-wide staff); the consortium, members and
    providers have none. `code` is its code (a staff user's username)."""

    kind: ObjectKind
    code: str = ""
    owner: str | None = None


class _AnyOwner(Enum):
    ANY = "any"


ANY_OWNER = _AnyOwner.ANY  # a list across owners: every member's libraries
Owner = str | None | Literal[_AnyOwner.ANY]


# ---------------------------------------------------------------- ports


class NetworkStore(Protocol):
    """The network's objects and their audit trail, by `Ref`; each change and its audit entry
    are written together or not at all."""

    def get(self, ref: Ref) -> dict | None: ...
    def get_many(self, refs: list[Ref]) -> dict[Ref, dict]: ...

    def page(
        self, kind: ObjectKind, owner: Owner, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        """One page of the objects of a kind that `owner` holds (None: those without an owner,
        `ANY_OWNER`: every owner's), in code order, and where the next page starts."""
        ...

    def write(self, ref: Ref, item: dict, expected_version: int | None, audit: AuditEntry) -> None:
        """Put `item` if the stored version is `expected_version` (None: must not exist), with
        the audit entry, in one transaction; raise VersionConflict (with the stored version) otherwise."""
        ...

    def member_audit(
        self, member: str | None, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        """A page of the audit entries of changes to a member's data (None: the network's), newest first."""
        ...

    def object_audit(
        self, object_type: str, object_id: str, limit: int, after: str | None
    ) -> tuple[list[dict], str | None]:
        """A page of the audit entries of one object, newest first."""
        ...


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
