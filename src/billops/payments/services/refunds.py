"""Refunds: paying a customer back out of a receipt's unapplied cash (its credit balance), debiting unapplied
cash and crediting the bank account, audited with its entry.

A refund at or above the approval policy's amount for "payments.refund" in its currency waits for a second
person with the authority (maker-checker, docs/approvals.md): `refund_receipt` then returns the approval
request, and the refund is paid when it is approved (`perform_refund`, called by the approvals app).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from billops.access import clock
from billops.access.approvals.services import needs_approval, request_approval
from billops.access.approvals.snapshots import check_snapshot
from billops.access.models import ApprovalRequest, User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.errors import Conflict, CurrencyMismatch, InvalidAmount, InvalidInput
from billops.core.money import Money, Rounding, round_money
from billops.ledger.accounts import UNAPPLIED_CASH
from billops.ledger.posting import credit, debit, period_for_posting, post_entry
from billops.payments.models import Receipt, Refund
from billops.payments.selectors import get_bank_account
from billops.payments.services.applications import locked_receipt, shown

ACTION = "payments.refund"
TARGET = "payments.receipt"


def _checked(receipt: Receipt, amount: Money, method: str, reason: str) -> tuple[Money, str]:
    """The refund's amount and reason, or the error naming what is wrong with it."""
    if receipt.status != Receipt.Status.POSTED:
        raise Conflict(
            f"receipt {receipt.pk} is {receipt.status}; nothing of it is refunded", field="receipt_id"
        )
    if method not in Refund.Method.values:
        raise InvalidInput(f"method must be one of {', '.join(Refund.Method.values)}", field="method")
    if amount.currency != receipt.currency:
        raise CurrencyMismatch(
            f"receipt {receipt.pk} is in {receipt.currency}, not {amount.currency}", field="currency"
        )
    amount = round_money(amount, policy=Rounding.EXACT)
    if amount.amount <= 0:
        raise InvalidAmount("a refund is more than zero", field="amount")
    if amount.amount > receipt.unapplied_amount:
        raise InvalidAmount(
            f"receipt {receipt.pk} has {shown(receipt.unapplied_amount, receipt)} {receipt.currency} "
            f"unapplied; {amount.amount} cannot be refunded",
            field="amount",
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the customer is paid back", field="reason")
    return amount, reason


def snapshot_of(receipt: Receipt, amount: Money, method: str, reference: str) -> dict[str, Any]:
    """What the approver sees: the receipt, whom it pays back, how much and how."""
    return {
        "receipt": receipt.pk, "customer": receipt.customer.account_number,
        "customer_name": receipt.customer.legal_name, "received_on": receipt.received_on.isoformat(),
        "receipt_amount": str(shown(receipt.amount, receipt)), "refund": str(round_money(amount).amount),
        "currency": amount.currency, "method": method, "reference": reference.strip()[:100],
        "bank_account": receipt.bank_account.code,
    }  # fmt: skip


@transaction.atomic(durable=True)
def refund_receipt(
    *,
    receipt_id: int,
    amount: Money,
    method: str,
    reason: str,
    actor: User,
    reference: str = "",
    on: date | None = None,
) -> Refund | ApprovalRequest:
    """Pay a customer back out of a receipt's unapplied cash (its credit balance); at or above the approval
    policy's amount, the approval request that waits for a second person instead."""
    require_permission(actor, "payments.refund")
    receipt = locked_receipt(receipt_id)
    amount, reason = _checked(receipt, amount, method, reason)
    on = on or clock.today()
    if needs_approval(ACTION, amount):
        period_for_posting(on)  # a closed period is refused when asking, not only when approving
        return request_approval(
            action=ACTION, amount=amount, snapshot=snapshot_of(receipt, amount, method, reference),
            target_kind=TARGET, target_id=receipt.pk, reason=reason, actor=actor,
        )  # fmt: skip
    return _pay(receipt, amount, method, reason, reference, on, actor=actor, asked_by=actor)


def perform_refund(request: ApprovalRequest, approver: User) -> tuple[str, int]:
    """The approved refund, paid in the approving transaction; refused when the receipt no longer holds the
    amount unapplied or is no longer as the approver saw it."""
    receipt = locked_receipt(request.target_id)
    snapshot = request.snapshot
    amount = Money(request.amount, request.currency)
    amount, reason = _checked(receipt, amount, snapshot["method"], request.reason)
    check_snapshot(request, snapshot_of(receipt, amount, snapshot["method"], snapshot["reference"]))
    refund = _pay(
        receipt, amount, snapshot["method"], reason, snapshot["reference"], clock.today(), actor=approver,
        asked_by=request.requested_by,
    )  # fmt: skip
    return "payments.refund", refund.pk


def _pay(
    receipt: Receipt, amount: Money, method: str, reason: str, reference: str, on: date, *, actor: User,
    asked_by: User,
) -> Refund:  # fmt: skip
    bank = get_bank_account(receipt.bank_account.code)
    entry = post_entry(
        on=on,
        lines=[
            debit(UNAPPLIED_CASH, amount, customer_id=receipt.customer_id),
            credit(bank.ledger_account, amount),
        ],
        memo=f"Refund to {receipt.customer.account_number} from receipt {receipt.pk}: {reason}"[:200],
        source=receipt,
        actor=actor,
    )
    refund = Refund.objects.create(
        receipt=receipt, customer_id=receipt.customer_id, bank_account=bank, method=method,
        currency=amount.currency, amount=amount.amount, refunded_on=on, reference=reference.strip()[:100],
        reason=reason[:300], journal_entry=entry, created_by=asked_by,
    )  # fmt: skip
    receipt.unapplied_amount -= amount.amount
    receipt.save(update_fields=["unapplied_amount"])
    record_event(
        actor=actor,
        action="receipt.refunded",
        target=receipt,
        after={
            "refund": refund.pk,
            "amount": amount.amount,
            "method": method,
            "reason": reason,
            "unapplied_amount": shown(receipt.unapplied_amount, receipt),
        },
        journal_entry_id=entry.pk,
    )
    return refund
