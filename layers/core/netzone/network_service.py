"""The network's directory as staff use it: the consortium, members, libraries, groups,
providers and staff users, read and changed through `NetworkService`.

`NetworkService` is plain Python over two ports (`netzone.network.NetworkStore`,
`StaffDirectory`): it checks the caller's role and scope (`netzone.access`), writes with the
object's version (a stale version is a `Conflict`), and records every change in the audit
trail (who, when, what, before, after) in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from pydantic import BaseModel

from netzone import access
from netzone.access import Principal
from netzone.clock import audit_id, now
from netzone.errors import Conflict, Denied, Invalid, NotFound, VersionConflict
from netzone.network import (
    ANY_OWNER,
    MAX_PAGE,
    AuditEntry,
    Body,
    Consortium,
    ConsortiumBody,
    Group,
    GroupBody,
    Library,
    LibraryBody,
    Member,
    MemberBody,
    NetworkStore,
    ObjectKind,
    Owner,
    Page,
    Provider,
    ProviderBody,
    Ref,
    StaffBody,
    StaffDirectory,
    StaffUser,
    Stored,
    UsernameTaken,
)

CONSORTIUM = Ref("consortium")
S = TypeVar("S", bound=Stored)


@dataclass
class NetworkService:
    """What staff do to the network's directory: each read and change checked against the
    caller's role and scope, each change versioned and audited (and mirrored in the user pool
    for staff users)."""

    store: NetworkStore
    directory: StaffDirectory | None = None
    clock: Callable[[], str] = now

    # -- generic plumbing
    def _save(
        self,
        principal: Principal,
        ref: Ref,
        model: type[S],
        body: Body,
        object_type: str,
        object_id: str,
        member: str | None,
        create: bool,
        extra: dict[str, Any] | None = None,
    ) -> S:
        before = self.store.get(ref)
        fields = body.model_dump()
        sent_version: int | None = fields.pop("version")
        if before is not None and create:
            raise Conflict("already-exists", f"{object_type} {object_id} already exists; PUT it to change it")
        if before is None and not create:
            raise NotFound(f"{object_type}-not-found", f"no {object_type} {object_id}; POST it to create it")
        if before is not None and sent_version is None:
            raise Invalid(
                "version-required",
                f"send the version you read (currently {before['version']}) so no change is lost",
            )
        stamp = self.clock()
        fields |= extra or {}
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
            self.store.write(ref, after, None if before is None else sent_version, entry)
        except VersionConflict as conflict:
            if conflict.current is None:
                raise NotFound(
                    f"{object_type}-not-found", f"{object_type} {object_id} was removed"
                ) from conflict
            if before is None:
                raise Conflict(
                    "already-exists", f"{object_type} {object_id} was just created by someone else"
                ) from conflict
            raise Conflict(
                "stale-version",
                f"{object_type} {object_id} is at version {conflict.current}, you sent {sent_version}: "
                "read it again, reapply your change and send the new version",
            ) from conflict
        return item

    def _get(self, ref: Ref, model: type[BaseModel], object_type: str, object_id: str) -> Any:
        item = self.store.get(ref)
        if item is None:
            raise NotFound(f"{object_type}-not-found", f"no {object_type} {object_id}")
        return model(**item)

    def _page(self, kind: ObjectKind, owner: Owner, limit: int, after: str | None) -> Page:
        _check_limit(limit)
        items, next_token = self.store.page(kind, owner, limit, after)
        return Page(items=items, next=next_token)

    def _member_exists(self, code: str) -> None:
        if self.store.get(Ref("member", code)) is None:
            raise NotFound("member-not-found", f"no member {code}; create it with POST /members first")

    # -- consortium
    def get_consortium(self, principal: Principal) -> Consortium:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._get(CONSORTIUM, Consortium, "consortium", "network")

    def put_consortium(self, principal: Principal, body: ConsortiumBody) -> Consortium:
        access.authorize(principal, access.CENTRAL_ONLY)
        create = self.store.get(CONSORTIUM) is None
        return self._save(principal, CONSORTIUM, Consortium, body, "consortium", "network", None, create)

    # -- members
    def list_members(self, principal: Principal, limit: int = 50, after: str | None = None) -> Page:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._page("member", None, limit, after)

    def get_member(self, principal: Principal, code: str) -> Member:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._get(Ref("member", code), Member, "member", code)

    def save_member(self, principal: Principal, body: MemberBody, create: bool) -> Member:
        access.authorize(principal, access.CENTRAL_ONLY)
        return self._save(
            principal, Ref("member", body.code), Member, body, "member", body.code, body.code, create
        )

    # -- libraries
    def list_libraries(
        self, principal: Principal, member: str, limit: int = 50, after: str | None = None
    ) -> Page:
        access.authorize(principal, access.MEMBER_STAFF, member=member)
        self._member_exists(member)  # an unknown member has no empty list: it is not there
        return self._page("library", member, limit, after)

    def list_all_libraries(self, principal: Principal, limit: int = 50, after: str | None = None) -> Page:
        access.authorize(principal, access.MEMBER_STAFF, member=None)
        return self._page("library", ANY_OWNER, limit, after)

    def get_library(self, principal: Principal, member: str, code: str) -> Library:
        access.authorize(principal, access.MEMBER_STAFF, member=member)
        return self._get(Ref("library", code, member), Library, "library", f"{member}/{code}")

    def save_library(self, principal: Principal, member: str, body: LibraryBody, create: bool) -> Library:
        access.authorize(principal, access.MEMBER_ADMIN, member=member)
        self._member_exists(member)
        if body.parent:
            parent = self.store.get(Ref("library", body.parent, member))
            if parent is None or parent.get("kind") not in ("campus", "community"):
                raise Invalid(
                    "invalid-parent",
                    f"parent {body.parent!r} must be a campus or community of member {member}",
                )
        return self._save(
            principal,
            Ref("library", body.code, member),
            Library,
            body,
            "library",
            f"{member}/{body.code}",
            member,
            create,
            {"member": member},
        )

    # -- groups (owner "network" or a member code)
    def list_groups(
        self, principal: Principal, owner: str, limit: int = 50, after: str | None = None
    ) -> Page:
        self._authorize_group(principal, owner, write=False)
        if owner != "network":
            self._member_exists(owner)
        return self._page("group", owner, limit, after)

    def get_group(self, principal: Principal, owner: str, code: str) -> Group:
        self._authorize_group(principal, owner, write=False)
        return self._get(Ref("group", code, owner), Group, "group", f"{owner}/{code}")

    def save_group(self, principal: Principal, owner: str, body: GroupBody, create: bool) -> Group:
        self._authorize_group(principal, owner, write=True)
        if owner != "network":
            self._member_exists(owner)
        self._check_group_items(owner, body)
        ref = Ref("group", body.code, owner)
        member = None if owner == "network" else owner
        return self._save(
            principal, ref, Group, body, "group", f"{owner}/{body.code}", member, create, {"owner": owner}
        )

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
        refs = []
        for item in body.items:
            if body.kind == "members":
                refs.append(Ref("member", item))
            else:
                member, _, library = item.partition("/")
                if owner != "network" and member != owner:
                    raise Invalid(
                        "invalid-group-item",
                        f"a group of member {owner} may only hold its own libraries, not {item}",
                    )
                refs.append(Ref("library", library, member))
        found = self.store.get_many(refs)
        missing = [item for item, ref in zip(body.items, refs, strict=True) if ref not in found]
        if missing:
            raise Invalid("unknown-group-items", f"these do not exist: {', '.join(missing[:20])}")

    # -- providers
    def list_providers(self, principal: Principal, limit: int = 50, after: str | None = None) -> Page:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._page("provider", None, limit, after)

    def get_provider(self, principal: Principal, code: str) -> Provider:
        access.authorize(principal, access.READ_DIRECTORY, member=principal.member)
        return self._get(Ref("provider", code), Provider, "provider", code)

    def save_provider(self, principal: Principal, body: ProviderBody, create: bool) -> Provider:
        access.authorize(principal, access.CENTRAL_ONLY)
        return self._save(
            principal, Ref("provider", body.code), Provider, body, "provider", body.code, None, create
        )

    # -- staff users (member None: network-wide staff)
    def list_staff(
        self, principal: Principal, member: str | None, limit: int = 50, after: str | None = None
    ) -> Page:
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        if member:
            self._member_exists(member)
        return self._page("staff", member, limit, after)

    def get_staff(self, principal: Principal, member: str | None, username: str) -> StaffUser:
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        return self._get(
            Ref("staff", username, member), StaffUser, "staff", f"{member or 'network'}/{username}"
        )

    def save_staff(
        self, principal: Principal, member: str | None, body: StaffBody, create: bool
    ) -> StaffUser:
        """Create or change a staff user in the directory (table) and the user pool together.

        The pool is the authority on who a username is: a create claims the name there first
        (an existing name is a `Conflict`, never an update), a change is allowed only when the pool
        says the user belongs to the path's scope. The pool is written before the table and
        put back if the table write fails, so the two never disagree.
        """
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        if member:
            self._member_exists(member)
            if "central_admin" in body.roles:
                raise Invalid("invalid-role", "central_admin is a network-wide role: create it under /staff")
        try:
            StaffUser(**body.model_dump(exclude={"version"}), member=member)
        except ValueError as error:
            raise Invalid("invalid-staff", str(error)) from error
        ref = Ref("staff", body.username, member)
        object_id = f"{member or 'network'}/{body.username}"
        save = partial(
            self._save,
            principal,
            ref,
            StaffUser,
            body,
            "staff",
            object_id,
            member,
            create,
            {"member": member},
        )
        if self.directory is None:
            return save()
        before = self.store.get(ref)
        if create:
            return self._create_staff(principal, before, body, member, save)
        if before is None:
            raise NotFound("staff-not-found", f"no staff {object_id}; POST it to create it")
        pooled = self.directory.lookup(body.username)
        if pooled is None or pooled.member != member:
            raise Denied(
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
            return save()
        except BaseException:
            self.directory.update(current)  # put the pool back: the table did not change
            raise

    def _create_staff(
        self,
        principal: Principal,
        before: dict | None,
        body: StaffBody,
        member: str | None,
        save: Callable[[], StaffUser],
    ) -> StaffUser:
        assert self.directory is not None
        if before is not None:
            save()  # raises already-exists
        user = StaffUser(**body.model_dump(exclude={"version"}), member=member)
        try:
            self.directory.create(user)
        except UsernameTaken as taken:
            raise Conflict(
                "username-taken",
                f"the username {body.username} is taken in the staff user pool; choose another",
            ) from taken
        try:
            return save()
        except BaseException:
            self.directory.delete(body.username)  # release the name: the directory has no such user
            raise

    # -- audit
    def audit_for_member(
        self, principal: Principal, member: str | None, limit: int = 50, after: str | None = None
    ) -> Page:
        access.authorize(principal, access.MEMBER_ADMIN if member else access.CENTRAL_ONLY, member=member)
        if member:
            self._member_exists(member)
        _check_limit(limit)
        items, next_token = self.store.member_audit(member, limit, after)
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
        _check_limit(limit)
        items, next_token = self.store.object_audit(object_type, object_id, limit, after)
        return Page(items=items, next=next_token)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid("invalid-limit", f"limit must be between 1 and {MAX_PAGE}")


def _member_of(object_type: str, object_id: str) -> str | None:
    """The member whose data an object is, from its id (`lku`, `lku/main`, `network/x`)."""
    if object_type == "member":
        return object_id
    if object_type in ("library", "group", "staff"):
        owner = object_id.split("/", 1)[0]
        return None if owner == "network" else owner
    return None  # consortium and providers: central office only
