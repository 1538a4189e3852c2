"""Reads of approvals: requests, the inbox of what a user may decide, policies and approval limits."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, QuerySet

from billops.access.approvals.errors import AlreadyDecided, OutsideApprovalLimit, SelfApproval
from billops.access.approvals.registry import ACTION_CODE
from billops.access.models import ApprovalLimit, ApprovalPolicy, ApprovalRequest, User
from billops.access.permissions import can
from billops.core.currencies import MINOR_UNITS
from billops.core.db import given
from billops.core.errors import DomainError, InvalidInput, NotFound
from billops.core.money import Money, round_money


def get_request(request_id: int, *, for_update: bool = False) -> ApprovalRequest:
    """One approval request, or NotFound."""
    found = ApprovalRequest.objects.select_related("requested_by", "decided_by")
    if for_update:
        found = found.select_for_update(of=("self",))
    request = found.filter(pk=request_id).first()
    if request is None:
        raise NotFound(f"no approval request {request_id}", field="request_id")
    return request


def list_requests(
    *, status: str | None = None, action: str | None = None, requested_by: User | None = None
) -> QuerySet[ApprovalRequest]:
    """Requests, newest first; each filter left out means any."""
    if status and status not in ApprovalRequest.Status.values:
        raise InvalidInput(
            f"status must be one of {', '.join(ApprovalRequest.Status.values)}", field="status"
        )
    return (
        ApprovalRequest.objects.select_related("requested_by", "decided_by")
        .filter(**given(status=status, action=action, requested_by=requested_by))
        .order_by("-requested_at", "-pk")
    )


def inbox_for(user: User) -> QuerySet[ApprovalRequest]:
    """Pending requests this user may decide: someone else's, within their role's limit; oldest first."""
    if not can(user, "approvals.decide"):
        return ApprovalRequest.objects.none()
    within_limit = ApprovalLimit.objects.filter(
        policy__action=OuterRef("action"), policy__currency=OuterRef("currency"), role=user.role,
        max_amount__gte=OuterRef("amount"),
    )  # fmt: skip
    return (
        ApprovalRequest.objects.select_related("requested_by")
        .filter(status=ApprovalRequest.Status.PENDING)
        .exclude(requested_by=user)
        .filter(Exists(within_limit))
        .order_by("requested_at", "pk")
    )


def get_policy(action: str, currency: str) -> ApprovalPolicy:
    """The policy of an action in a currency, or NotFound."""
    if not ACTION_CODE.fullmatch(action) or currency not in MINOR_UNITS:  # not even a possible one
        raise NotFound(f"no approval policy for {action!r} in {currency!r}", field="action")
    policy = (
        ApprovalPolicy.objects.select_related("updated_by")
        .prefetch_related("limits")
        .filter(action=action, currency=currency)
        .first()
    )
    if policy is None:
        raise NotFound(f"no approval policy for {action} in {currency}", field="action")
    return policy


def list_policies(*, action: str | None = None) -> QuerySet[ApprovalPolicy]:
    return (
        ApprovalPolicy.objects.select_related("updated_by")
        .prefetch_related("limits")
        .filter(**given(action=action))
        .order_by("action", "currency")
    )


def limit_for(role: str, action: str, currency: str) -> Money | None:
    """The most a role may approve of the action in the currency; None: it may not approve it at all."""
    amount: Decimal | None = (
        ApprovalLimit.objects.filter(policy__action=action, policy__currency=currency, role=role)
        .values_list("max_amount", flat=True)
        .first()
    )
    return None if amount is None else round_money(amount, currency)


def decision_refusal(request: ApprovalRequest, actor: User) -> DomainError | None:
    """Why `actor` may not approve or reject the request now, or None when they may: already decided, their
    own request, no approval limit, or a limit below the amount. Permission to decide at all is the
    caller's check."""
    if not request.is_pending:
        who = request.decided_by.get_username() if request.decided_by else "someone"
        return AlreadyDecided(
            f"approval request {request.pk} is already {request.status} (by {who}); "
            "it cannot be decided again",
            field="status",
        )
    if request.requested_by_id == actor.pk:
        return SelfApproval(
            f"{actor.get_username()} asked for approval request {request.pk} and cannot decide it; "
            "a second person must (withdraw it by cancelling instead)",
            field="decided_by",
        )
    amount = round_money(request.amount, request.currency)
    limit = limit_for(actor.role, request.action, request.currency)
    if limit is None:
        return OutsideApprovalLimit(
            f"the {actor.role} role has no approval limit for {request.action} in {request.currency}",
            field="amount",
        )
    if limit < amount:
        return OutsideApprovalLimit(
            f"the {actor.role} role may approve {request.action} up to {limit.amount} {limit.currency}; "
            f"this request is for {amount.amount} {amount.currency}",
            field="amount",
        )
    return None


def counts() -> dict[str, int]:
    """What `billops check` counts of approvals: requests by status."""
    by_status = dict(ApprovalRequest.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {f"approvals_{status}": by_status.get(status, 0) for status in ApprovalRequest.Status.values}
