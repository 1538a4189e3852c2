"""Approval policies, the administrator's: from which amount an action needs a second person, and up to
which amount each role may approve it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from billops.access.approvals.registry import get_action
from billops.access.models import ApprovalLimit, ApprovalPolicy, Role, User
from billops.access.permissions import PERMISSIONS, require_permission
from billops.audit.services import record_event
from billops.core.errors import Conflict, DomainError, FieldErrors, InvalidAmount, InvalidInput
from billops.core.money import Money, money, round_money


def approving_roles() -> list[str]:
    """The roles that may decide approvals at all, and so may hold an approval limit."""
    allowed = PERMISSIONS["approvals.decide"]
    return [role for role in Role.values if role == Role.ADMIN or role in allowed]


def _limits(limits: Mapping[str, Any], currency: str) -> dict[str, Money]:
    if not isinstance(limits, Mapping):
        raise InvalidInput("limits map each role to the most it may approve", field="limits")
    roles = approving_roles()
    cleaned: dict[str, Money] = {}
    errors: list[DomainError] = []
    for role, value in limits.items():
        field = f"limits.{role}"
        if role not in roles:
            errors.append(
                InvalidInput(f"{role!r} is not a role that approves; one of {', '.join(roles)}", field=field)
            )
            continue
        try:
            limit = money(value, currency, field=field)
        except DomainError as exc:
            errors.append(exc)
            continue
        if limit.amount <= 0:
            errors.append(
                InvalidAmount(f"a limit is above 0; leave {role} out to let it approve nothing", field=field)
            )
            continue
        cleaned[role] = limit
    FieldErrors.raise_any(errors)
    return cleaned


def policy_state(policy: ApprovalPolicy) -> dict[str, Any]:
    """A policy as its events record it."""
    return {
        "action": policy.action,
        "approval_from": round_money(policy.approval_from, policy.currency),
        "limits": {
            limit.role: round_money(limit.max_amount, policy.currency)
            for limit in sorted(policy.limits.all(), key=lambda limit: limit.role)
        },
    }


@transaction.atomic(durable=True)
def set_approval_policy(
    *,
    action: str,
    currency: str,
    approval_from: Decimal | int | str,
    limits: Mapping[str, Decimal | int | str],
    actor: User,
) -> ApprovalPolicy:
    """Set from which amount the action in this currency needs approval (0: always) and the most each role
    may approve; the roles left out approve none of it. Requests already waiting are judged by it too."""
    require_permission(actor, "approvals.manage_policies")
    get_action(action)
    threshold = money(approval_from, currency, field="approval_from")  # also checks the currency
    if threshold.amount < 0:
        raise InvalidAmount(
            "approval_from must not be negative (0: every amount needs approval)", field="approval_from"
        )
    cleaned = _limits(limits, currency)
    policy = ApprovalPolicy.objects.select_for_update().filter(action=action, currency=currency).first()
    before = policy_state(policy) if policy is not None else None
    if policy is None:
        try:
            with transaction.atomic():
                policy = ApprovalPolicy.objects.create(
                    action=action, currency=currency, approval_from=threshold.amount, updated_by=actor
                )
        except IntegrityError:  # set by another administrator at the same moment
            raise Conflict(
                f"the policy of {action} in {currency} was just set by someone else; try again"
            ) from None
    else:
        policy.approval_from, policy.updated_by = threshold.amount, actor
        policy.save(update_fields=["approval_from", "updated_by", "updated_at"])
        policy.limits.all().delete()
    ApprovalLimit.objects.bulk_create(
        [ApprovalLimit(policy=policy, role=role, max_amount=limit.amount) for role, limit in cleaned.items()]
    )
    policy = ApprovalPolicy.objects.prefetch_related("limits").select_related("updated_by").get(pk=policy.pk)
    record_event(
        actor=actor, action="approval.policy_set", target=policy, before=before, after=policy_state(policy)
    )
    return policy
