"""API: maker-checker approvals under /api/v1/approvals/: the requests (with the snapshot and its digest
an approver decides on), approving, rejecting and cancelling them, and the policies.

Requests are made by the apps whose actions need approval (a write-off, a credit note, a refund), not
here: this router decides them. Amounts travel as decimal strings ("520.00").
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from billops.access.approvals import policies, selectors, services
from billops.access.approvals.registry import find_action, registered_actions
from billops.access.auth import api_actor
from billops.access.models import ApprovalPolicy, ApprovalRequest
from billops.core.money import round_money
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    AmountOut,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)

router = Router()


def _label(code: str) -> str:
    action = find_action(code)
    return action.label if action is not None else code


class ActionOut(Schema):
    code: str  # "collections.write_off"
    label: str


class RequestOut(Schema):
    id: int
    action: str
    action_label: str
    amount: AmountOut
    currency: str
    target_kind: str  # "<app>.<model>" of what it acts on
    target_id: int
    reason: str  # the maker's
    status: str  # pending, approved, rejected, cancelled
    revision: int  # 1, +1 each time the maker amended it while pending
    snapshot_digest: str  # pass it back when approving: a request amended since is then refused
    requested_by: str
    requested_at: datetime
    decided_by: str | None  # for a cancelled request, the maker who withdrew it
    decided_at: datetime | None
    decision_note: str
    result_kind: str  # what the approved action produced ("" when nothing)
    result_id: int | None

    @staticmethod
    def resolve_action_label(obj: ApprovalRequest) -> str:
        return _label(obj.action)

    @staticmethod
    def resolve_amount(obj: ApprovalRequest) -> Decimal:
        return round_money(obj.amount, obj.currency).amount

    @staticmethod
    def resolve_requested_by(obj: ApprovalRequest) -> str:
        return obj.requested_by.get_username()

    @staticmethod
    def resolve_decided_by(obj: ApprovalRequest) -> str | None:
        return obj.decided_by.get_username() if obj.decided_by else None


class RequestDetailOut(RequestOut):
    snapshot: dict[str, Any]  # exactly what will be done, in the maker's order


class RequestFilters(Schema):
    status: str | None = None
    action: str | None = None
    mine: bool = False  # only the requests I asked for


class ApproveIn(StrictIn):
    note: str = ""
    snapshot_digest: str | None = None  # the digest you were shown; left out: not compared


class RejectRequestIn(StrictIn):
    note: str  # why, for the maker


class CancelRequestIn(StrictIn):
    note: str = ""


class ApprovalPolicyIn(StrictIn):
    approval_from: AmountIn  # at or above it a second person approves; 0: always
    limits: dict[str, AmountIn] = {}  # role -> the most it may approve; roles left out approve none


class ApprovalPolicyOut(Schema):
    action: str
    action_label: str
    currency: str
    approval_from: AmountOut
    limits: dict[str, AmountOut]
    updated_by: str
    updated_at: datetime

    @staticmethod
    def resolve_action_label(obj: ApprovalPolicy) -> str:
        return _label(obj.action)

    @staticmethod
    def resolve_approval_from(obj: ApprovalPolicy) -> Decimal:
        return round_money(obj.approval_from, obj.currency).amount

    @staticmethod
    def resolve_limits(obj: ApprovalPolicy) -> dict[str, Decimal]:
        return {
            limit.role: round_money(limit.max_amount, obj.currency).amount
            for limit in sorted(obj.limits.all(), key=lambda limit: limit.role)
        }

    @staticmethod
    def resolve_updated_by(obj: ApprovalPolicy) -> str:
        return obj.updated_by.get_username()


@router.get("/actions", response={200: list[ActionOut], **errors()})
def list_actions(request: HttpRequest) -> object:
    """The actions the installed apps let wait for approval."""
    return registered_actions()


@router.get("/requests", response={200: list[RequestOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_requests(request: HttpRequest, filters: Query[RequestFilters]) -> object:
    """Newest first."""
    mine = api_actor(request) if filters.mine else None
    return selectors.list_requests(status=filters.status, action=filters.action, requested_by=mine)


@router.get("/inbox", response={200: list[RequestOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def inbox(request: HttpRequest) -> object:
    """Pending requests I may decide: someone else's, within my role's approval limit; oldest first."""
    return selectors.inbox_for(api_actor(request))


@router.get("/requests/{request_id}", response={200: RequestDetailOut, **errors(404, 422)})
def get_request(request: HttpRequest, request_id: RowId) -> object:
    return selectors.get_request(request_id)


@router.post("/requests/{request_id}/approve", response={200: RequestDetailOut, **errors(*WRITE_ERRORS, 404)})
def approve_request(request: HttpRequest, request_id: RowId, payload: ApproveIn) -> object:
    """Approve and perform the action at once; refused for the maker, beyond your role's limit, for a
    decided request, or when `snapshot_digest` is not the request's any more. A refused action (409 or 400
    from the app that performs it) leaves the request pending."""
    return services.approve_request(request_id=request_id, actor=api_actor(request), **payload.model_dump())


@router.post("/requests/{request_id}/reject", response={200: RequestDetailOut, **errors(*WRITE_ERRORS, 404)})
def reject_request(request: HttpRequest, request_id: RowId, payload: RejectRequestIn) -> object:
    return services.reject_request(request_id=request_id, actor=api_actor(request), note=payload.note)


@router.post("/requests/{request_id}/cancel", response={200: RequestDetailOut, **errors(*WRITE_ERRORS, 404)})
def cancel_request(request: HttpRequest, request_id: RowId, payload: CancelRequestIn) -> object:
    """The maker withdraws their own pending request."""
    return services.cancel_request(request_id=request_id, actor=api_actor(request), note=payload.note)


@router.get("/policies", response={200: list[ApprovalPolicyOut], **errors(*QUERY_ERRORS)})
def list_policies(request: HttpRequest, action: str | None = None) -> object:
    return list(selectors.list_policies(action=action))


@router.get("/policies/{action}/{currency}", response={200: ApprovalPolicyOut, **errors(404, 422)})
def get_policy(request: HttpRequest, action: str, currency: str) -> object:
    return selectors.get_policy(action, currency)


@router.put("/policies/{action}/{currency}", response={200: ApprovalPolicyOut, **errors(*WRITE_ERRORS, 404)})
def set_policy(request: HttpRequest, action: str, currency: str, payload: ApprovalPolicyIn) -> object:
    """Administrators only; replaces the policy's limits with those given."""
    return policies.set_approval_policy(
        action=action, currency=currency, approval_from=payload.approval_from, limits=payload.limits,
        actor=api_actor(request),
    )  # fmt: skip
