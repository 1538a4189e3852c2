"""API authentication: `Authorization: Bearer <token>` checked against the hashed token store."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from billops.access.selectors import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user  # the idempotency layer and audit read the caller from here
        return user
