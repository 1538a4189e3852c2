"""Users and API tokens (creating users, issuing and revoking tokens) and the test clock. Each is audited."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import ApiToken, BusinessClock, Role, User
from billops.access.permissions import require_permission
from billops.access.selectors import TOKEN_PREFIX, hash_secret
from billops.audit.services import record_event
from billops.core.errors import Duplicate, InvalidInput, NotFound, PermissionDenied


def _check_username(username: str) -> None:
    max_length = User._meta.get_field("username").max_length or 150
    if not username.strip() or len(username) > max_length:
        raise InvalidInput(f"a username has 1 to {max_length} characters", field="username")
    try:
        User.username_validator(username)
    except ValidationError:
        raise InvalidInput("a username has only letters, digits and @ . + - _", field="username") from None


@transaction.atomic(durable=True)
def create_user(
    *,
    username: str,
    password: str,
    role: str,
    actor: User | None,
    email: str = "",
    full_name: str = "",
    check_password_strength: bool = True,
) -> User:
    """Add a staff user with one role. `actor` None means the operator at the command line."""
    if actor is not None:
        require_permission(actor, "access.manage_users")
    if role not in Role.values:
        raise InvalidInput(f"role must be one of {', '.join(Role.values)}", field="role")
    _check_username(username)
    if User.objects.filter(username=username).exists():
        raise Duplicate(f"a user named {username!r} already exists", field="username")
    if check_password_strength:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            raise InvalidInput(" ".join(exc.messages), field="password") from None
    first, _, last = full_name.partition(" ")
    user = User(username=username, email=email, role=role, first_name=first, last_name=last)
    user.is_staff = role == Role.ADMIN
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # created by someone else since the check above
        raise Duplicate(f"a user named {username!r} already exists", field="username") from None
    record_event(
        actor=actor, action="access.user_created", target=user, after={"username": username, "role": role}
    )
    return user


@transaction.atomic(durable=True)
def issue_api_token(*, user: User, name: str, actor: User | None) -> tuple[ApiToken, str]:
    """Make a token for `user`; the secret is returned once and only its hash is kept."""
    if actor is not None:
        require_permission(actor, "access.manage_own_tokens" if actor == user else "access.manage_users")
    max_length = ApiToken._meta.get_field("name").max_length or 100
    if not name.strip() or len(name.strip()) > max_length:
        raise InvalidInput(f"a token needs a name of 1 to {max_length} characters", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=secret[:11], secret_hash=hash_secret(secret)
    )
    # actor None: the operator at the command line, recorded as "system"
    record_event(
        actor=actor,
        action="access.token_issued",
        target=token,
        after={"name": token.name, "user": user.username},
    )
    return token, secret


@transaction.atomic(durable=True)
def revoke_api_token(*, token_id: int, actor: User) -> ApiToken:
    """Revoke a token at once; requests that present it afterwards get 401."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"no API token {token_id}", field="token_id")
    if token.user_id != actor.pk:
        require_permission(actor, "access.manage_users")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(actor=actor, action="access.token_revoked", target=token)
    return token


EARLIEST_BUSINESS_DATE, LATEST_BUSINESS_DATE = date(2000, 1, 1), date(2099, 12, 31)


def _clock_allowed(actor: User | None) -> None:
    if actor is not None:
        require_permission(actor, "access.set_clock")
    if settings.PRODUCTION:
        raise PermissionDenied(
            "the test clock cannot be set in production mode (BILLOPS_PRODUCTION=1): the real date applies",
            action="access.set_clock",
        )


@transaction.atomic(durable=True)
def set_business_date(*, on: date, actor: User | None) -> BusinessClock:
    """Run the whole system as of `on` (a test or demo system only); admins, or the operator at the shell."""
    _clock_allowed(actor)
    if isinstance(on, datetime) or not isinstance(on, date):
        raise InvalidInput("the business date must be a date (YYYY-MM-DD)", field="business_date")
    if not EARLIEST_BUSINESS_DATE <= on <= LATEST_BUSINESS_DATE:
        raise InvalidInput(
            f"the business date {on.isoformat()} is not between {EARLIEST_BUSINESS_DATE.isoformat()} and "
            f"{LATEST_BUSINESS_DATE.isoformat()}",
            field="business_date",
        )
    before = clock.today()
    row, _ = BusinessClock.objects.update_or_create(pk=1, defaults={"business_date": on, "set_by": actor})
    record_event(
        actor=actor,
        action="access.clock_set",
        target=row,
        before={"business_date": before},
        after={"business_date": on},
    )
    clock.remember(on)
    return row


@transaction.atomic(durable=True)
def reset_business_date(*, actor: User | None) -> date:
    """Back to the real date; returns it. Nothing to do when no test clock is set."""
    _clock_allowed(actor)
    row = BusinessClock.objects.select_for_update().filter(pk=1).first()
    if row is not None:
        record_event(
            actor=actor,
            action="access.clock_reset",
            target=row,
            before={"business_date": row.business_date},
            after={"business_date": timezone.localdate()},
        )
        row.delete()
    clock.remember(None)
    return clock.today()
