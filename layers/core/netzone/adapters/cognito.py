"""Staff identities in the Cognito user pool: roles are groups, the scope is `custom:member`."""

from __future__ import annotations

from netzone.access import ROLES
from netzone.adapters import AwsAdapter
from netzone.network import StaffUser


class CognitoStaffDirectory(AwsAdapter):
    service = "cognito-idp"

    def __init__(self, user_pool_id: str, client=None):
        super().__init__(client)
        self.user_pool_id = user_pool_id

    def upsert(self, user: StaffUser) -> None:
        attributes = [{"Name": "email", "Value": user.email}, {"Name": "email_verified", "Value": "true"}]
        if user.name:
            attributes.append({"Name": "name", "Value": user.name})
        if user.member:
            attributes.append({"Name": "custom:member", "Value": user.member})
        pool = {"UserPoolId": self.user_pool_id, "Username": user.username}
        try:
            # Cognito mails the new user a temporary password; they choose their own at first login.
            self.client.admin_create_user(**pool, UserAttributes=attributes, DesiredDeliveryMediums=["EMAIL"])
        except self.client.exceptions.UsernameExistsException:
            self.client.admin_update_user_attributes(**pool, UserAttributes=attributes)
            if not user.member:
                self.client.admin_delete_user_attributes(**pool, UserAttributeNames=["custom:member"])
        held = {g["GroupName"] for g in self.client.admin_list_groups_for_user(**pool).get("Groups", [])}
        for role in set(user.roles) - held:
            self.client.admin_add_user_to_group(**pool, GroupName=role)
        for role in (held - set(user.roles)) & set(ROLES):
            self.client.admin_remove_user_from_group(**pool, GroupName=role)
        if user.enabled:
            self.client.admin_enable_user(**pool)
        else:
            self.client.admin_disable_user(**pool)
