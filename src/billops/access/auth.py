"""API authentication: `Authorization: Bearer <token>` checked against the hashed token store."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from billops.access.models import Role, User
from billops.access.selectors import user_for_token
from billops.core.errors import PermissionDenied

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user  # the idempotency layer and audit read the caller from here
        if user.role == Role.AUDITOR and request.method not in READ_METHODS:
            # the auditor is read-only everywhere: refused before the request body is even read
            raise PermissionDenied("the auditor role is read-only", field=None)
        return user


def api_actor(request: HttpRequest) -> User:
    """The user whose token authenticated this API request (every route is behind `TokenAuth`)."""
    return cast(User, request.auth)  # type: ignore[attr-defined]
