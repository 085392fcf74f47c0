"""Staff identities in the Cognito user pool: roles are groups, the scope is `custom:member`.

A username is global to the pool. `create` uses AdminCreateUser, which refuses an existing
name, so it can never rewrite another user; `update` changes email, name, roles and whether
the user may sign in, never `custom:member` (a user's scope is fixed when it is created).
"""

from __future__ import annotations

import contextlib

from netzone.access import ROLES
from netzone.adapters import AwsAdapter
from netzone.network import PoolUser, StaffUser, UsernameTaken


class CognitoStaffDirectory(AwsAdapter):
    service = "cognito-idp"

    def __init__(self, user_pool_id: str, client=None):
        super().__init__(client)
        self.user_pool_id = user_pool_id

    def _pool(self, username: str) -> dict:
        return {"UserPoolId": self.user_pool_id, "Username": username}

    def lookup(self, username: str) -> PoolUser | None:
        try:
            user = self.client.admin_get_user(**self._pool(username))
        except self.client.exceptions.UserNotFoundException:
            return None
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        return PoolUser(username=username, member=(attributes.get("custom:member") or "").strip() or None)

    def create(self, user: StaffUser) -> None:
        attributes = self._attributes(user)
        if user.member:
            attributes.append({"Name": "custom:member", "Value": user.member})
        try:
            # Cognito mails the new user a temporary password; they choose their own at first login.
            self.client.admin_create_user(
                **self._pool(user.username), UserAttributes=attributes, DesiredDeliveryMediums=["EMAIL"]
            )
        except self.client.exceptions.UsernameExistsException as exists:
            raise UsernameTaken(user.username) from exists
        self._roles_and_access(user)

    def update(self, user: StaffUser) -> None:
        self.client.admin_update_user_attributes(
            **self._pool(user.username), UserAttributes=self._attributes(user)
        )
        self._roles_and_access(user)

    def delete(self, username: str) -> None:
        with contextlib.suppress(self.client.exceptions.UserNotFoundException):
            self.client.admin_delete_user(**self._pool(username))

    @staticmethod
    def _attributes(user: StaffUser) -> list[dict]:
        attributes = [{"Name": "email", "Value": user.email}, {"Name": "email_verified", "Value": "true"}]
        if user.name:
            attributes.append({"Name": "name", "Value": user.name})
        return attributes

    def _roles_and_access(self, user: StaffUser) -> None:
        pool = self._pool(user.username)
        held = {g["GroupName"] for g in self.client.admin_list_groups_for_user(**pool).get("Groups", [])}
        for role in set(user.roles) - held:
            self.client.admin_add_user_to_group(**pool, GroupName=role)
        for role in (held - set(user.roles)) & set(ROLES):
            self.client.admin_remove_user_from_group(**pool, GroupName=role)
        if user.enabled:
            self.client.admin_enable_user(**pool)
        else:
            self.client.admin_disable_user(**pool)
