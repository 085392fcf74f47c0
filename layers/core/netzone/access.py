"""Staff roles and what they may do: a small, explicit role model.

A staff user has roles (Cognito groups) and a scope: the network (central office and
network-wide staff) or one member institution (the `custom:member` attribute). Every network
API route names the permission it needs; `authorize` answers with the principal or raises
`Unauthenticated` (no identity) or `Denied` (saying which role and scope would do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from netzone.errors import Denied, Unauthenticated

Role = Literal["central_admin", "member_admin", "cataloger", "circulation"]
ROLES: tuple[Role, ...] = ("central_admin", "member_admin", "cataloger", "circulation")
ROLE_TITLES = {
    "central_admin": "central-office administrator",
    "member_admin": "member administrator",
    "cataloger": "cataloger",
    "circulation": "circulation staff",
}


@dataclass(frozen=True)
class Principal:
    username: str
    roles: frozenset[str]
    member: str | None  # None: scoped to the whole network

    @property
    def network_scoped(self) -> bool:
        return self.member is None

    def describe(self) -> str:
        scope = "the network" if self.member is None else f"member {self.member}"
        return f"{self.username} ({', '.join(sorted(self.roles)) or 'no roles'} for {scope})"


def principal_from_claims(claims: dict | None) -> Principal:
    """The caller, from the claims API Gateway's Cognito authorizer verified."""
    if not claims or (not claims.get("cognito:username") and not claims.get("username")):
        raise Unauthenticated(
            "unauthenticated", "send a staff ID token: Authorization: Bearer <token> (netzone login)"
        )
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):  # API Gateway passes list claims as one string: "[a, b]" or "a,b"
        groups = [g.strip() for g in groups.strip("[]").replace(",", " ").split() if g.strip()]
    member = (claims.get("custom:member") or "").strip() or None
    roles = frozenset(g for g in groups if g in ROLES)
    if "central_admin" in roles:
        member = None  # the central office is network-scoped by definition
    return Principal(
        username=claims.get("cognito:username") or claims["username"], roles=roles, member=member
    )


def authorize(principal: Principal, roles: tuple[str, ...], member: str | None = None) -> Principal:
    """Allow when the principal holds one of `roles` with a scope that covers `member`.

    `member=None` means a network-level object: only network-scoped staff qualify.
    Central-office administrators may do everything.
    """
    if "central_admin" in principal.roles:
        return principal
    held = principal.roles.intersection(roles)
    if held and (principal.network_scoped or (member is not None and principal.member == member)):
        return principal
    titles = [ROLE_TITLES[r] for r in roles if r in ROLE_TITLES and r != "central_admin"]
    wanted = ", ".join(titles[:-1]) + (" or " if len(titles) > 1 else "") + titles[-1] if titles else ""
    wanted = f"{wanted} or a central-office administrator" if wanted else "central-office administrator"
    scope = "the network" if member is None else f"member {member}"
    raise Denied(
        "forbidden",
        f"{principal.describe()} may not do this: it needs a {wanted} for {scope}",
    )


# Permissions by route family; the network API declares one per route.
READ_DIRECTORY = ROLES  # members, providers and network groups are visible to all staff
MEMBER_STAFF = ROLES  # reading a member's own libraries and groups
MEMBER_ADMIN: tuple[Role, ...] = ("member_admin",)
CENTRAL_ONLY: tuple[Role, ...] = ("central_admin",)
