"""Reads about users and tokens."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from billops.access.models import ApiToken, User
from billops.core.errors import NotFound

TOKEN_PREFIX = "bo_"  # noqa: S105 - marks our tokens, not a secret
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def user_for_token(token: str) -> User | None:
    """The active user behind an unrevoked token, or None. Records when the token was last used, to the
    minute: a write on every request would make each read an update."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_secret(token)
    found = (
        ApiToken.objects.select_related("user").filter(secret_hash=digest, revoked_at__isnull=True).first()
    )
    if found is None or not hmac.compare_digest(found.secret_hash, digest) or not found.user.is_active:
        return None
    now = timezone.now()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


def get_user(username: str, *, field: str = "username") -> User:
    """The user of that name, or NotFound naming `field` (a command names its option: `user`)."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(f"no user named {username!r}", field=field) from None


def list_tokens(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")
