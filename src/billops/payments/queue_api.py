"""API: the matching queue under /api/v1/payments/bank-lines/: imported bank lines, and the clerk's one
action on a parked line (this customer's payment, not a payment at all, a receipt coming back, a refund
already paid), as on the queue page."""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from billops.access.auth import api_actor
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
from billops.payments import selectors
from billops.payments.api import AllocationIn
from billops.payments.models import BankLine
from billops.payments.services import queue

router = Router()


class BankLineOut(Schema):
    id: int
    file_id: int
    file_name: str
    line: int  # where it is in the file
    bank_account: str
    booked_on: date
    amount: AmountOut  # more than 0: money in
    currency: str
    bank_reference: str
    payer_name: str  # the other party: the payer of money in, the payee of money out
    payer_account: str
    remittance: str
    creditor_reference: str
    status: str  # posted, parked, rejected
    reason: str  # why it waits, or why it was rejected
    suggestions: list[dict[str, Any]]  # while parked: the engine's candidates, best first
    evidence: dict[str, Any]  # once posted: the match it was posted on
    receipt_id: int | None
    returned_receipt_id: int | None
    refund_id: int | None

    @staticmethod
    def resolve_file_name(obj: BankLine) -> str:
        return obj.file.file_name

    @staticmethod
    def resolve_bank_account(obj: BankLine) -> str:
        return obj.bank_account.code

    @staticmethod
    def resolve_amount(obj: BankLine) -> Decimal:
        return round_money(obj.amount, obj.currency).amount


class LineFilters(Schema):
    status: str = BankLine.Status.PARKED  # parked (the queue), posted or rejected


class ResolveIn(StrictIn):
    customer_id: RowId
    allocations: list[AllocationIn] = []  # empty: oldest first
    remember_payer: bool = True  # the payer's account is this customer's from now on


class DismissIn(StrictIn):
    reason: str


class ReturnIn(StrictIn):
    receipt_id: RowId
    return_code: str
    reason: str = ""
    fee: AmountIn | None = None  # charged to the customer on an invoice of its own (RETURN-FEE)


class RefundMatchIn(StrictIn):
    refund_id: RowId


@router.get("", response={200: list[BankLineOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_bank_lines(request: HttpRequest, filters: Query[LineFilters]) -> object:
    """Bank lines by what became of them, oldest first; the matching queue by default."""
    return selectors.list_bank_lines(status=filters.status)


@router.get("/{line_id}", response={200: BankLineOut, **errors(404, 422)})
def get_bank_line(request: HttpRequest, line_id: RowId) -> object:
    return selectors.get_bank_line(line_id)


@router.post("/{line_id}/resolve", response={200: BankLineOut, **errors(*WRITE_ERRORS, 404)})
def resolve_line(request: HttpRequest, line_id: RowId, payload: ResolveIn) -> object:
    """The line is this customer's payment: a receipt applied to the invoices named, or oldest first."""
    queue.resolve_line(
        line_id=line_id, customer_id=payload.customer_id, actor=api_actor(request),
        allocations=[item.allocation() for item in payload.allocations],
        remember_payer=payload.remember_payer,
    )  # fmt: skip
    return selectors.get_bank_line(line_id)


@router.post("/{line_id}/dismiss", response={200: BankLineOut, **errors(*WRITE_ERRORS, 404)})
def dismiss_line(request: HttpRequest, line_id: RowId, payload: DismissIn) -> object:
    """Not a customer's payment (a bank fee, money out handled elsewhere): rejected with the reason."""
    queue.dismiss_line(line_id=line_id, reason=payload.reason, actor=api_actor(request))
    return selectors.get_bank_line(line_id)


@router.post("/{line_id}/return", response={200: BankLineOut, **errors(*WRITE_ERRORS, 404)})
def resolve_return(request: HttpRequest, line_id: RowId, payload: ReturnIn) -> object:
    """Money out that is this receipt coming back: the receipt is reversed with the return code."""
    queue.resolve_return(line_id=line_id, actor=api_actor(request), **payload.model_dump())
    return selectors.get_bank_line(line_id)


@router.post("/{line_id}/refund", response={200: BankLineOut, **errors(*WRITE_ERRORS, 404)})
def match_refund(request: HttpRequest, line_id: RowId, payload: RefundMatchIn) -> object:
    """Money out that is a refund already posted: the line records it; nothing is posted again."""
    queue.match_refund(line_id=line_id, refund_id=payload.refund_id, actor=api_actor(request))
    return selectors.get_bank_line(line_id)
