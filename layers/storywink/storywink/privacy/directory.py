"""The user directory: Cognito's user pool, where the identities the API's tokens name live."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class UserDirectory:
    """Users by their `sub` (our user id). Cognito's Username is not always the sub, so each call finds
    the user with ListUsers' `sub = "..."` filter first."""

    def __init__(self, cognito: Any, user_pool_id: str) -> None:
        self._cognito = cognito
        self.user_pool_id = user_pool_id

    def _username(self, user_id: str) -> str | None:
        quoted = user_id.replace("\\", "\\\\").replace('"', '\\"')
        users = self._cognito.list_users(UserPoolId=self.user_pool_id, Filter=f'sub = "{quoted}"', Limit=1)["Users"]
        return users[0]["Username"] if users else None

    def exists(self, user_id: str) -> bool:
        return self._username(user_id) is not None

    def delete(self, user_id: str) -> bool:
        """AdminDeleteUser; False when the user was not (or no longer) there."""
        username = self._username(user_id)
        if username is None:
            return False
        try:
            self._cognito.admin_delete_user(UserPoolId=self.user_pool_id, Username=username)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return False
            raise
        return True
