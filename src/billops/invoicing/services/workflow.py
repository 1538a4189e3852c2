"""From draft to issued: pre-issue checks, submission, approval by a second person, credit-hold
override, and the issue itself — number, journal entry, frozen document and audit event in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import EventData, record_event, record_events
from billops.core.db import deadlock_as_conflict
from billops.core.errors import InvalidInput
from billops.core.memo import cached
from billops.core.money import Money, round_money
from billops.customers.models import Customer, OpenItemMovement
from billops.customers.movements import record_movements
from billops.customers.selectors import get_customer
from billops.invoicing.digest import content_digest
from billops.invoicing.errors import PreIssueCheckFailed, SelfApproval, WrongStatus
from billops.invoicing.models import (
    ApprovalThreshold,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    IssuedDocument,
    NumberSeries,
)
from billops.invoicing.movements import document_movement
from billops.invoicing.numbering import take_number
from billops.invoicing.selectors import get_entity, get_invoice
from billops.invoicing.services.documents import freeze_document
from billops.invoicing.services.drafts import build_lines, invoice_state, locked_draft, new_document
from billops.invoicing.services.lines import LineData, clean_document_date, clean_text, recalculate
from billops.ledger.accounts import RECEIVABLES, TAX_PAYABLE
from billops.ledger.models import Account
from billops.ledger.posting import Line, credit, debit, post_entry


@dataclass(frozen=True, slots=True)
class Check:
    code: str  # "credit_hold", "po_missing", "exemption_expired", "zero_amount", …
    message: str
    blocking: bool  # a blocking check stops the issue; the others are warnings for the clerk


def approval_reason(invoice: Invoice) -> str:
    """Why this document needs a second person's approval, or "" when it does not."""
    if invoice.customer.invoice_approval_required:
        return f"{invoice.customer.account_number}'s invoices need approval"
    threshold = cached(
        ("approval_threshold", invoice.entity_id, invoice.currency),
        lambda: ApprovalThreshold.objects.filter(entity=invoice.entity, currency=invoice.currency).first(),
    )
    if threshold is not None and invoice.total >= threshold.amount:
        total, limit = (round_money(amount, invoice.currency) for amount in (invoice.total, threshold.amount))
        return f"the total {total} is at or above the approval threshold {limit}"
    return ""


def pre_issue_checks(invoice: Invoice, lines: Sequence[InvoiceLine] | None = None) -> list[Check]:
    """What the clerk sees on a draft before issuing it; blocking checks stop the issue. `lines`: those
    of a document priced in memory and not saved (a bill run's preview)."""
    customer = invoice.customer
    lines = list(invoice.lines.all()) if lines is None else lines  # from memory after `recalculate`
    checks = []
    if not lines:
        checks.append(Check("no_lines", "the document has no lines", blocking=True))
    elif invoice.total == 0:
        checks.append(Check("zero_amount", "the total is zero: there is nothing to bill", blocking=True))
    if customer.credit_hold and invoice.hold_override_by_id is None:
        checks.append(
            Check(
                "credit_hold",
                f"{customer.account_number} is on credit hold ({customer.credit_hold_reason}); "
                "a supervisor must record an override to invoice it",
                blocking=invoice.document_type != DocumentType.CREDIT_NOTE,
            )
        )
    if customer.po_required and not invoice.po_number and invoice.document_type == DocumentType.INVOICE:
        checks.append(Check("po_missing", f"{customer.account_number} requires a PO number", blocking=True))
    if invoice.currency != customer.currency:
        checks.append(
            Check(
                "currency_mismatch",
                f"the document is in {invoice.currency} but {customer.account_number} is billed in "
                f"{customer.currency}",
                blocking=True,
            )
        )
    if customer.status == Customer.Status.CLOSED:
        checks.append(Check("customer_closed", f"{customer.account_number} is closed", blocking=True))
    warnings = sorted({line.tax_warning for line in lines if line.tax_warning})
    checks += [Check("exemption_expired", warning, blocking=False) for warning in warnings]
    return checks


def refuse_blocking(checks: list[Check]) -> None:
    blocking = [check for check in checks if check.blocking]
    if blocking:
        raise PreIssueCheckFailed(
            "; ".join(check.message for check in blocking),
            field=blocking[0].code,
            checks=[c.code for c in blocking],
        )


@transaction.atomic(durable=True)
def submit_invoice(*, invoice_id: int, actor: User) -> Invoice:
    """Send a draft for approval; a document that needs none is approved at once."""
    require_permission(actor, "invoicing.submit")
    invoice = locked_draft(invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise WrongStatus(f"{invoice} is already {invoice.get_status_display().lower()}", field="status")
    recalculate(invoice)
    refuse_blocking([check for check in pre_issue_checks(invoice) if check.code != "credit_hold"])
    reason = approval_reason(invoice)
    invoice.approval_required = bool(reason)
    invoice.status = InvoiceStatus.SUBMITTED if reason else InvoiceStatus.APPROVED
    invoice.submitted_by, invoice.submitted_at = actor, timezone.now()
    invoice.save(update_fields=["approval_required", "status", "submitted_by", "submitted_at"])
    record_event(
        actor=actor,
        action="invoice.submitted",
        target=invoice,
        after={"status": invoice.status, "approval": reason or "not required"},
    )
    return invoice


@transaction.atomic(durable=True)
def approve_invoice(*, invoice_id: int, actor: User) -> Invoice:
    """A second person approves a submitted document; the one who made or submitted it cannot."""
    require_permission(actor, "invoicing.approve")
    invoice = locked_draft(invoice_id)
    if invoice.status != InvoiceStatus.SUBMITTED:
        raise WrongStatus(
            f"only a submitted document is approved; {invoice} is {invoice.status}", field="status"
        )
    if actor.pk in (invoice.created_by_id, invoice.submitted_by_id):
        raise SelfApproval(f"{actor} made or submitted {invoice} and cannot approve it", field="approved_by")
    invoice.status = InvoiceStatus.APPROVED
    invoice.approved_by, invoice.approved_at = actor, timezone.now()
    invoice.save(update_fields=["status", "approved_by", "approved_at"])
    record_event(actor=actor, action="invoice.approved", target=invoice, after=invoice_state(invoice))
    return invoice


@transaction.atomic(durable=True)
def reject_invoice(*, invoice_id: int, reason: str, actor: User) -> Invoice:
    """Send a submitted document back to draft with the reason."""
    require_permission(actor, "invoicing.approve")
    reason = clean_text(reason, "reason", limit=300, required=True)
    invoice = locked_draft(invoice_id)
    if invoice.status != InvoiceStatus.SUBMITTED:
        raise WrongStatus(
            f"only a submitted document is rejected; {invoice} is {invoice.status}", field="status"
        )
    invoice.status = InvoiceStatus.DRAFT
    invoice.submitted_by = invoice.submitted_at = None
    invoice.save(update_fields=["status", "submitted_by", "submitted_at"])
    record_event(actor=actor, action="invoice.rejected", target=invoice, after={"reason": reason})
    return invoice


@transaction.atomic(durable=True)
def override_credit_hold(*, invoice_id: int, reason: str, actor: User) -> Invoice:
    """A supervisor allows this one document to be issued although its customer is on credit hold."""
    require_permission(actor, "invoicing.override_credit_hold")
    reason = clean_text(reason, "reason", limit=300, required=True)
    invoice = locked_draft(invoice_id)
    if not invoice.customer.credit_hold:
        raise InvalidInput(f"{invoice.customer.account_number} is not on credit hold", field="invoice_id")
    invoice.hold_override_by, invoice.hold_override_reason = actor, reason
    invoice.save(update_fields=["hold_override_by", "hold_override_reason"])
    record_event(
        actor=actor,
        action="invoice.credit_hold_overridden",
        target=invoice,
        after={"reason": reason, "hold_reason": invoice.customer.credit_hold_reason},
    )
    return invoice


def entry_lines(invoice: Invoice, lines: Iterable[InvoiceLine]) -> list[Line]:
    """Receivables against revenue per account and tax payable; a credit note posts the other way."""
    currency, customer_id = invoice.currency, invoice.customer_id
    revenue: dict[Account, Decimal] = defaultdict(Decimal)
    for line in lines:
        revenue[line.revenue_account] += line.net
    owed, earned = (debit, credit) if invoice.document_type != DocumentType.CREDIT_NOTE else (credit, debit)
    posted = [
        owed(RECEIVABLES, Money(invoice.total, currency), customer_id=customer_id, memo=invoice.number or "")
    ]
    posted += [
        earned(account, Money(net, currency))
        for account, net in sorted(revenue.items(), key=lambda item: item[0].pk)
        if net
    ]
    if invoice.tax_total:
        posted.append(earned(TAX_PAYABLE, Money(invoice.tax_total, currency)))
    return posted


def number_document(invoice: Invoice, series: NumberSeries, sequence_no: int) -> None:
    """Give a dated document its number and, for an invoice or debit note, its due date and terms."""
    assert invoice.issued_on is not None
    invoice.series, invoice.sequence_no, invoice.number = series, sequence_no, series.format(sequence_no)
    if invoice.document_type != DocumentType.CREDIT_NOTE:
        terms = invoice.customer.terms
        invoice.due_on, invoice.terms_text = terms.due_on(invoice.issued_on), str(terms)
        invoice.early_discount_percent = terms.discount_percent
        invoice.early_discount_until = terms.discount_until(invoice.issued_on)


def entry_memo(invoice: Invoice) -> str:
    return f"{invoice.get_document_type_display()} {invoice.number} to {invoice.customer.account_number}"


def mark_issued(invoice: Invoice, *, entry_id: int, actor: User) -> None:
    """The issued state of a numbered document whose entry is `entry_id`, and its content digest."""
    sign = -1 if invoice.document_type == DocumentType.CREDIT_NOTE else 1
    invoice.status, invoice.open_amount = InvoiceStatus.ISSUED, sign * invoice.total
    invoice.journal_entry_id, invoice.issued_by, invoice.issued_at = entry_id, actor, timezone.now()
    invoice.digest = content_digest(invoice)


def issued_movement(invoice: Invoice) -> OpenItemMovement:
    """A document's first movement: all of it is open from its date."""
    assert invoice.issued_on is not None
    return document_movement(invoice, invoice.open_amount, invoice.issued_on, OpenItemMovement.Reason.ISSUED)


def issued_event(invoice: Invoice, document: IssuedDocument) -> EventData:
    return EventData(
        action=f"{invoice.document_type}.issued",
        target=invoice,
        after={
            "number": invoice.number,
            "total": invoice.total,
            "currency": invoice.currency,
            "issued_on": invoice.issued_on,
            "content_sha256": document.content_sha256,
        },
        journal_entry_id=invoice.journal_entry_id,
    )


def issue_document(invoice: Invoice, *, actor: User, issued_on: date | None) -> Invoice:
    """Number, post, freeze and audit a locked document whose totals are calculated for its date;
    the building block of every issue (`issue_documents` does the same for many at once)."""
    invoice.issued_on = issued_on or invoice.issued_on or clock.today()
    # the checks, the posting, the digest and the frozen document all read the lines and taxes: once
    # (after `recalculate` they are in memory already, and this reads nothing)
    prefetch_related_objects(
        [invoice],
        Prefetch("lines", InvoiceLine.objects.select_related("revenue_account", "tax_code")),
        "taxes",
    )
    refuse_blocking(pre_issue_checks(invoice))
    number_document(invoice, *take_number(invoice.entity, invoice.document_type, invoice.issued_on.year))
    entry = post_entry(
        on=invoice.issued_on,
        lines=entry_lines(invoice, invoice.lines.all()),
        memo=entry_memo(invoice),
        source=invoice,
        actor=actor,
    )
    mark_issued(invoice, entry_id=entry.pk, actor=actor)
    invoice.save()
    record_movements([issued_movement(invoice)])
    document = freeze_document(invoice)
    record_events(actor=actor, events=[issued_event(invoice, document)])
    return invoice


@deadlock_as_conflict
@transaction.atomic(durable=True)
def issue_invoice(*, invoice_id: int, actor: User, issued_on: date | None = None) -> Invoice:
    """Issue an approved document, or a draft that needs no approval, with the next number of its series."""
    require_permission(actor, "invoicing.issue")
    customer_id = get_invoice(invoice_id).customer_id
    get_customer(customer_id, for_update=True)  # the customer first, as every service that moves money
    invoice = get_invoice(invoice_id, for_update=True)
    if invoice.is_issued:
        raise WrongStatus(f"{invoice} is already issued", field="status")
    invoice.issued_on = clean_document_date(issued_on, "issued_on") or invoice.issued_on or clock.today()
    approved_total = invoice.total
    recalculate(invoice)  # the tax rates of the issue date
    if invoice.status == InvoiceStatus.APPROVED and invoice.approved_by_id is not None:
        if invoice.total != approved_total:
            approved = round_money(approved_total, invoice.currency).amount
            raise WrongStatus(
                f"the total would change from the approved {approved} to {invoice.total} {invoice.currency} "
                f"(tax rates of {invoice.issued_on.isoformat()} differ): change the date, submit it again",
                field="issued_on",
            )
    elif invoice.status != InvoiceStatus.APPROVED:
        reason = approval_reason(invoice)
        if reason:
            raise WrongStatus(f"{invoice} needs approval before it is issued: {reason}", field="status")
    return issue_document(invoice, actor=actor, issued_on=None)


@deadlock_as_conflict
@transaction.atomic(durable=True)
def invoice_now(
    *,
    customer_id: int,
    lines: Sequence[LineData],
    actor: User,
    entity_code: str = "",
    issued_on: date | None = None,
    **header: Any,
) -> Invoice:
    """Create and issue an invoice in one step, for API clients and bill runs; refused if it needs approval.

    Nothing is kept when any check fails: there is no draft left behind and no number taken.
    """
    require_permission(actor, "invoicing.edit_drafts")
    require_permission(actor, "invoicing.issue")
    customer = get_customer(customer_id, for_update=True)
    invoice = new_document(
        customer=customer, entity=get_entity(entity_code), actor=actor, issued_on=issued_on, **header
    )
    recalculate(invoice, new_lines=build_lines(invoice, lines, is_new=True), is_new=True)
    reason = approval_reason(invoice)
    if reason:
        raise WrongStatus(
            f"this invoice needs approval, so it cannot be issued in one step: {reason}", field="lines"
        )
    return issue_document(invoice, actor=actor, issued_on=issued_on)
