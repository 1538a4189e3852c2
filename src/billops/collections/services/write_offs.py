"""Bad-debt write-offs under maker-checker, and recoveries of debts written off.

A collector asks for a write-off of what an invoice has open (or part of it). Below the approval policy's
amount for "collections.write_off" in that currency it is posted at once; at or above it, an approval
request is made, and the write-off is posted when a second person with the authority approves it (the
approvals app calls `perform_write_off`). Posting debits the write-off account and credits the customer's
receivables; the invoice's open amount goes down, and the subledger's history says why.

A recovery is money received later for a debt written off: the receivable is reinstated (the mirror
entry, up to what was written off) and the receipt's cash applied to the invoice, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from billops.access import clock
from billops.access.approvals.services import needs_approval, request_approval
from billops.access.approvals.snapshots import check_snapshot
from billops.access.models import ApprovalRequest, User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.validation import clean_text
from billops.collections.models import Recovery, WriteOff
from billops.core.db import deadlock_as_conflict
from billops.core.errors import Conflict, InvalidAmount, NotFound
from billops.core.money import Money, Rounding, round_money
from billops.customers.models import OpenItemMovement
from billops.customers.selectors import get_customer
from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus
from billops.invoicing.selectors import get_invoice
from billops.ledger.accounts import RECEIVABLES, WRITE_OFFS
from billops.ledger.posting import credit, debit, period_for_posting, post_entry
from billops.payments.services.applications import Allocation, apply_cash, locked_receipt, settle

ACTION = "collections.write_off"
TARGET = "invoicing.invoice"


@dataclass(frozen=True, slots=True)
class WriteOffOutcome:
    """Either the write-off posted, or the approval request it waits on."""

    write_off: WriteOff | None = None
    approval: ApprovalRequest | None = None


def _locked_open_invoice(invoice_id: int) -> Invoice:
    customer_id = get_invoice(invoice_id).customer_id
    get_customer(customer_id, for_update=True)  # the customer first, as every service that moves money
    invoice = get_invoice(invoice_id, for_update=True)
    if invoice.document_type == DocumentType.CREDIT_NOTE or not invoice.is_issued:
        raise Conflict(f"{invoice} is not an issued invoice or debit note", field="invoice_id")
    if invoice.status == InvoiceStatus.VOID or invoice.open_amount <= 0:
        raise Conflict(
            f"{invoice} has nothing open ({invoice.get_status_display().lower()})", field="invoice_id"
        )
    return invoice


def snapshot_of(invoice: Invoice, amount: Decimal, reason: str) -> dict[str, Any]:
    """What the approver sees, and what must still hold when the write-off is posted."""
    currency = invoice.currency
    return {
        "invoice": invoice.number, "customer": invoice.customer.account_number,
        "customer_name": invoice.customer.legal_name, "currency": currency,
        "invoice_total": str(round_money(invoice.total, currency).amount),
        "open_amount": str(round_money(invoice.open_amount, currency).amount),
        "write_off": str(round_money(amount, currency).amount),
        "due_on": invoice.due_on.isoformat() if invoice.due_on else "",
        "reason": reason,
    }  # fmt: skip


@deadlock_as_conflict
@transaction.atomic(durable=True)
def request_write_off(
    *, invoice_id: int, reason: str, actor: User, amount: Decimal | None = None
) -> WriteOffOutcome:
    """Write off what the invoice has open (or `amount` of it) as bad debt, today; at or above the policy's
    amount it waits for a second person's approval. A paid invoice, an amount above what is open, or a
    closed period is refused and nothing changes."""
    require_permission(actor, "collections.write_off")
    reason = clean_text(reason, "reason", limit=300, required=True)
    invoice = _locked_open_invoice(invoice_id)
    currency = invoice.currency
    if amount is None:
        amount = invoice.open_amount
    written = round_money(Money(Decimal(amount), currency), policy=Rounding.EXACT).amount
    if written <= 0:
        raise InvalidAmount("a write-off is of an amount above zero", field="amount")
    if written > invoice.open_amount:
        open_now = round_money(invoice.open_amount, currency)
        raise InvalidAmount(f"{invoice} has {open_now} open; {written} {currency} is more", field="amount")
    on = clock.today()
    period_for_posting(on)  # a closed period is refused when asking, not only when approving
    if needs_approval(ACTION, Money(written, currency)):
        request = request_approval(
            action=ACTION, amount=Money(written, currency), snapshot=snapshot_of(invoice, written, reason),
            target_kind=TARGET, target_id=invoice.pk, reason=reason, actor=actor,
        )  # fmt: skip
        return WriteOffOutcome(approval=request)
    return WriteOffOutcome(
        write_off=_post(invoice, written, reason, on, requested_by=actor, approved_by=None)
    )


def perform_write_off(request: ApprovalRequest, approver: User) -> tuple[str, int]:
    """The approved request's write-off, posted in the approving transaction; refused (TargetChanged) when
    the invoice is no longer as the approver saw it, for example paid since."""
    invoice = _locked_open_invoice(request.target_id)
    reason, amount = request.reason, request.amount
    check_snapshot(request, snapshot_of(invoice, amount, reason))
    write_off = _post(
        invoice, amount, reason, clock.today(), requested_by=request.requested_by, approved_by=approver
    )
    write_off.approval_request = request
    write_off.save(update_fields=["approval_request"])
    return "collections.writeoff", write_off.pk


def _post(
    invoice: Invoice, amount: Decimal, reason: str, on: date, *, requested_by: User, approved_by: User | None
) -> WriteOff:
    money = Money(amount, invoice.currency)
    entry = post_entry(
        on=on,
        lines=[debit(WRITE_OFFS, money), credit(RECEIVABLES, money, customer_id=invoice.customer_id)],
        memo=f"Bad debt written off {invoice.number}: {reason}"[:200],
        source=invoice,
        actor=approved_by or requested_by,
    )
    settle(invoice, amount, on, reason=OpenItemMovement.Reason.WRITTEN_OFF)
    write_off = WriteOff.objects.create(
        invoice=invoice, customer_id=invoice.customer_id, currency=invoice.currency, amount=amount,
        reason=reason, written_off_on=on, journal_entry=entry, requested_by=requested_by,
        approved_by=approved_by,
    )  # fmt: skip
    record_event(
        actor=approved_by or requested_by,
        action="collections.written_off",
        target=invoice,
        after={
            "write_off": write_off.pk, "amount": round_money(money).amount, "currency": invoice.currency,
            "reason": reason, "requested_by": requested_by.username,
            "approved_by": approved_by.username if approved_by else None,
        },
        journal_entry_id=entry.pk,
    )  # fmt: skip
    return write_off


@deadlock_as_conflict
@transaction.atomic(durable=True)
def recover_write_off(
    *, write_off_id: int, receipt_id: int, actor: User, amount: Decimal | None = None, on: date | None = None
) -> Recovery:
    """Money came in for a debt written off: reinstate that much of the receivable and apply the receipt's
    cash to the invoice; at most what was written off and not recovered yet, and what the receipt holds."""
    require_permission(actor, "payments.apply")
    receipt = locked_receipt(receipt_id)  # the customer, then the receipt
    write_off = WriteOff.objects.select_for_update().select_related("invoice").filter(pk=write_off_id).first()
    if write_off is None:
        raise NotFound(f"there is no write-off {write_off_id}", field="write_off_id")
    if write_off.customer_id != receipt.customer_id:
        raise Conflict(f"receipt {receipt.pk} is another customer's", field="receipt_id")
    invoice = get_invoice(write_off.invoice_id, for_update=True)
    left = write_off.amount - write_off.recovered_amount
    wanted = min(left, receipt.unapplied_amount) if amount is None else Decimal(amount)
    recovered = round_money(Money(wanted, write_off.currency), policy=Rounding.EXACT).amount
    if recovered <= 0 or recovered > left:
        shown = round_money(left, write_off.currency)
        raise InvalidAmount(f"up to {shown} of write-off {write_off.pk} can be recovered", field="amount")
    if recovered > receipt.unapplied_amount:
        raise InvalidAmount(f"receipt {receipt.pk} has less than that unapplied", field="amount")
    on = on or clock.today()
    money = Money(recovered, write_off.currency)
    entry = post_entry(
        on=on,
        lines=[debit(RECEIVABLES, money, customer_id=write_off.customer_id), credit(WRITE_OFFS, money)],
        memo=f"Bad debt recovered on {invoice.number}, receipt {receipt.pk}"[:200],
        source=invoice,
        actor=actor,
    )
    settle(invoice, -recovered, on, reason=OpenItemMovement.Reason.REINSTATED)
    write_off.recovered_amount += recovered
    write_off.save(update_fields=["recovered_amount"])
    recovery = Recovery.objects.create(
        write_off=write_off, receipt=receipt, currency=write_off.currency, amount=recovered, recovered_on=on,
        journal_entry=entry, created_by=actor,
    )  # fmt: skip
    record_event(
        actor=actor,
        action="collections.write_off_recovered",
        target=invoice,
        after={"write_off": write_off.pk, "receipt": receipt.pk, "amount": round_money(money).amount},
        journal_entry_id=entry.pk,
    )
    apply_cash(
        receipt=receipt, actor=actor, applied_on=on,
        allocations=[Allocation(invoice_number=invoice.number or "", amount=recovered)],
    )  # fmt: skip
    return recovery
