"""Correcting issued documents with new documents: void, credit note, debit note and re-bill.

An issued document never changes; its settlement does. A credit note credits at most what is still
creditable, line by line, at the tax rate of the original line, and settles the invoice's open amount
first; what it credits beyond that stays on the customer's account as a credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.display import plain_decimal
from billops.core.db import deadlock_as_conflict
from billops.core.errors import InvalidAmount, InvalidInput, NotFound
from billops.core.money import Rounding, round_money, to_decimal
from billops.customers.models import OpenItemMovement
from billops.customers.movements import record_movements
from billops.customers.selectors import get_customer
from billops.invoicing.errors import OverCredit, WrongStatus
from billops.invoicing.models import (
    CreditAllocation,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)
from billops.invoicing.movements import document_movement
from billops.invoicing.selectors import get_invoice
from billops.invoicing.services.drafts import build_lines, invoice_state, new_document
from billops.invoicing.services.lines import (
    LineData,
    clean_document_date,
    clean_quantity,
    clean_text,
    recalculate,
)
from billops.invoicing.services.workflow import issue_document
from billops.ledger.models import JournalEntry
from billops.ledger.posting import mirror_lines, post_entry


@dataclass(frozen=True, slots=True)
class CreditLine:
    """Part of an invoice line to credit: a quantity (pro rata) or a net amount; neither = what is left."""

    line_no: int
    quantity: Any = None
    amount: Any = None


def settlement_status(invoice: Invoice) -> str:
    """An invoice's status from what is still open: issued, partly paid, paid, or credited."""
    if invoice.document_type == DocumentType.CREDIT_NOTE or invoice.status == InvoiceStatus.VOID:
        return invoice.status
    if invoice.open_amount == invoice.total:
        return InvoiceStatus.ISSUED
    if invoice.open_amount > 0:
        return InvoiceStatus.PARTLY_PAID
    return InvoiceStatus.CREDITED if invoice.credited_amount >= invoice.total else InvoiceStatus.PAID


def _locked_issued(invoice_id: int) -> Invoice:
    customer_id = get_invoice(invoice_id).customer_id
    get_customer(customer_id, for_update=True)  # the customer first, as every service that moves money
    invoice = get_invoice(invoice_id, for_update=True)
    if not invoice.is_issued:
        raise WrongStatus(f"{invoice} is not issued; a draft is changed or deleted instead", field="status")
    if invoice.status == InvoiceStatus.VOID:
        raise WrongStatus(f"{invoice} is void", field="status")
    return invoice


@deadlock_as_conflict
@transaction.atomic(durable=True)
def void_invoice(*, invoice_id: int, reason: str, actor: User, voided_on: date | None = None) -> Invoice:
    """Cancel an issued document nothing has settled: it keeps its number and its entry is reversed."""
    require_permission(actor, "invoicing.void")
    reason = clean_text(reason, "reason", limit=300, required=True)
    invoice = _locked_issued(invoice_id)
    untouched = invoice.open_amount == (
        -invoice.total if invoice.document_type == DocumentType.CREDIT_NOTE else invoice.total
    )
    if not untouched or invoice.credited_amount or invoice.allocations_made.exists():
        raise WrongStatus(
            f"{invoice} has been paid or credited in part; credit what is still open instead",
            field="status",
        )
    original = JournalEntry.objects.get(pk=invoice.journal_entry_id or 0)  # an issued document has one
    voided_on = voided_on or clock.today()
    if voided_on < original.posted_on:
        raise InvalidInput(
            f"a void cannot be dated before the document ({original.posted_on})", field="voided_on"
        )
    reversal = post_entry(
        on=voided_on,
        lines=mirror_lines(original),
        memo=f"Void of {invoice.number}: {reason}"[:200],
        source=invoice,
        actor=actor,
        reversal_of=original,
    )
    before = invoice_state(invoice)
    voided = document_movement(invoice, -invoice.open_amount, voided_on, OpenItemMovement.Reason.VOIDED)
    record_movements([voided])
    invoice.status, invoice.open_amount = InvoiceStatus.VOID, Decimal(0)
    invoice.voided_by, invoice.voided_at, invoice.void_reason = actor, timezone.now(), reason
    invoice.void_entry_id = reversal.pk
    invoice.save(
        update_fields=["status", "open_amount", "voided_by", "voided_at", "void_reason", "void_entry_id"]
    )
    record_event(
        actor=actor,
        action=f"{invoice.document_type}.voided",
        target=invoice,
        before=before,
        after={"status": invoice.status, "reason": reason, "voided_on": voided_on},
        journal_entry_id=reversal.pk,
    )
    return invoice


def _credited_so_far(line: InvoiceLine) -> tuple[Decimal, Decimal]:
    """Net and tax of this invoice line already credited by issued credit notes."""
    done = (
        InvoiceLine.objects.filter(credits_line=line, invoice__number__isnull=False)
        .exclude(invoice__status=InvoiceStatus.VOID)
        .aggregate(net=Sum("net"), tax=Sum("tax_amount"))
    )
    return done["net"] or Decimal(0), done["tax"] or Decimal(0)


def _credit_line(original: InvoiceLine, request: CreditLine, currency: str, field: str) -> InvoiceLine:
    """The credit-note line for part of an invoice line, refusing more than is left of it."""
    credited_net, credited_tax = _credited_so_far(original)
    left_net, left_tax = original.net - credited_net, original.tax_amount - credited_tax
    # credits by amount and by quantity mix on one line, so the quantity left follows the net left
    # (to the 4 places a quantity has: 3 x 24.95/74.85 is 1 handbook, not 0.9999)
    share_left = left_net / original.net if original.net else Decimal(1)
    left_quantity = (original.quantity * share_left).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if left_net <= 0 and left_tax <= 0:
        raise OverCredit(f"line {original.line_no} has been credited in full", field=field)
    if request.quantity is not None and request.amount is not None:
        raise InvalidInput("credit a line by quantity or by amount, not both", field=field)
    quantity, unit_price = left_quantity if left_quantity > 0 else Decimal(1), original.unit_price
    net, tax = left_net, left_tax
    if request.quantity is not None:
        quantity = clean_quantity(request.quantity, f"{field}.quantity")
        if quantity > left_quantity:
            raise OverCredit(
                f"line {original.line_no}: {plain_decimal(quantity)} is more than the "
                f"{plain_decimal(left_quantity)} still creditable",
                field=f"{field}.quantity",
            )
        if quantity < left_quantity:
            share = quantity / original.quantity
            net = round_money(original.net * share, currency, Rounding.HALF_UP).amount
            tax = round_money(original.tax_amount * share, currency, Rounding.HALF_UP).amount
    elif request.amount is not None:
        amount = round_money(
            to_decimal(request.amount, field=f"{field}.amount"),
            currency,
            Rounding.EXACT,
            field=f"{field}.amount",
        )
        if amount.amount <= 0:
            raise InvalidAmount(
                f"line {original.line_no}: the amount to credit must be more than zero, got {request.amount}",
                field=f"{field}.amount",
            )
        if amount.amount > left_net:
            left = round_money(left_net, currency)
            raise OverCredit(
                f"line {original.line_no}: {amount} is more than the {left} left to credit",
                field=f"{field}.amount",
            )
        if amount.amount < left_net:
            net = amount.amount
            tax = round_money(original.tax_amount * net / original.net, currency, Rounding.HALF_UP).amount
        quantity, unit_price = Decimal(1), net
    return InvoiceLine(
        product=original.product,
        description=original.description,
        quantity=quantity,
        unit=original.unit if request.amount is None else "",
        unit_price=unit_price,
        price_source=f"credit of {original.invoice.number} line {original.line_no}",
        net=net,
        tax_code=original.tax_code,
        tax_rate=original.tax_rate,
        tax_treatment=original.tax_treatment,
        tax_label=original.tax_label,
        tax_note=original.tax_note,
        tax_amount=tax,
        revenue_account=original.revenue_account,
        service_start=original.service_start,
        service_end=original.service_end,
        reference=original.reference,
        credits_line=original,
    )


def _summarise(note: Invoice) -> None:
    """Tax summary and totals of a credit note from its lines, which carry the original lines' tax."""
    groups: dict[tuple[int, str, Decimal], list[InvoiceLine]] = {}
    for line in note.lines.all():
        groups.setdefault((line.tax_code_id, line.tax_treatment, line.tax_rate), []).append(line)
    InvoiceTax.objects.bulk_create(
        InvoiceTax(
            invoice=note,
            tax_code_id=tax_code_id,
            label=members[0].tax_label,
            rate=rate,
            treatment=treatment,
            note=members[0].tax_note,
            taxable=sum((line.net for line in members), Decimal(0)),
            tax=sum((line.tax_amount for line in members), Decimal(0)),
        )
        for (tax_code_id, treatment, rate), members in groups.items()
    )
    note.subtotal = sum((line.net for line in note.lines.all()), Decimal(0))
    note.tax_total = sum((line.tax_amount for line in note.lines.all()), Decimal(0))
    note.total = note.subtotal + note.tax_total
    note.save(update_fields=["subtotal", "tax_total", "total"])


def _allocate(note: Invoice, invoice: Invoice) -> Decimal:
    """Settle the invoice's open amount with the credit note, as far as both go."""
    amount = min(note.total, max(invoice.open_amount, Decimal(0)))
    if amount > 0:
        CreditAllocation.objects.create(
            credit_note=note, invoice=invoice, currency=note.currency, amount=amount
        )
        invoice.open_amount -= amount
        invoice.credited_amount += amount
        invoice.status = settlement_status(invoice)
        invoice.save(update_fields=["open_amount", "credited_amount", "status"])
        note.open_amount += amount
        note.save(update_fields=["open_amount"])
        on = note.issued_on
        assert on is not None  # the note was issued just now
        record_movements(
            [
                document_movement(invoice, -amount, on, OpenItemMovement.Reason.CREDITED),
                document_movement(note, amount, on, OpenItemMovement.Reason.CREDITED),
            ]
        )
    return amount


def credit_document(
    invoice: Invoice, *, reason: str, actor: User, lines: Sequence[CreditLine] | None, issued_on: date | None
) -> Invoice:
    """Issue a credit note against a locked, issued invoice; the building block of credits and re-bills."""
    if invoice.document_type == DocumentType.CREDIT_NOTE:
        raise WrongStatus(f"{invoice} is a credit note; it is not credited again", field="invoice_id")
    issued_on = clean_document_date(issued_on, "issued_on")
    if issued_on is not None and invoice.issued_on and issued_on < invoice.issued_on:
        raise InvalidInput(
            f"a credit note cannot be dated before its invoice ({invoice.issued_on.isoformat()})",
            field="issued_on",
        )
    originals = {line.line_no: line for line in invoice.lines.select_related("tax_code", "invoice")}
    requests = list(lines) if lines else [CreditLine(line_no) for line_no in sorted(originals)]
    if not requests:
        raise InvalidInput("name at least one line to credit", field="lines")
    seen: set[int] = set()
    built = []
    for index, request in enumerate(requests):
        field = f"lines.{index}"
        if request.line_no in seen:
            raise InvalidInput(f"line {request.line_no} is named twice", field=f"{field}.line_no")
        seen.add(request.line_no)
        original = originals.get(request.line_no)
        if original is None:
            raise NotFound(f"{invoice} has no line {request.line_no}", field=f"{field}.line_no")
        if lines is None and original.net - _credited_so_far(original)[0] <= 0:
            continue  # crediting "everything left" skips lines already credited in full
        built.append(_credit_line(original, request, invoice.currency, field))
    if not built:
        raise OverCredit(f"{invoice} has been credited in full", field="lines")
    note = new_document(
        customer=invoice.customer,
        entity=invoice.entity,
        actor=actor,
        document_type=DocumentType.CREDIT_NOTE,
        original=invoice,
        language=invoice.language,
        po_number=invoice.po_number,
    )
    note.reason = reason
    note.save(update_fields=["reason"])
    for line_no, line in enumerate(built, start=1):
        line.invoice, line.line_no = note, line_no
    InvoiceLine.objects.bulk_create(built)
    _summarise(note)
    credited = Invoice.objects.filter(
        original=invoice, document_type=DocumentType.CREDIT_NOTE, status__in=[InvoiceStatus.ISSUED]
    ).aggregate(total=Sum("total"))["total"] or Decimal(0)
    if credited + note.total > invoice.total:
        raise OverCredit(
            f"{invoice} totals {invoice.total}; {credited} is credited already, so at most "
            f"{invoice.total - credited} {invoice.currency} is creditable",
            field="lines",
        )
    note.status = InvoiceStatus.APPROVED
    issue_document(note, actor=actor, issued_on=issued_on)
    _allocate(note, invoice)
    return note


@deadlock_as_conflict
@transaction.atomic(durable=True)
def issue_credit_note(
    *,
    invoice_id: int,
    reason: str,
    actor: User,
    lines: Sequence[CreditLine] | None = None,
    issued_on: date | None = None,
) -> Invoice:
    """Credit an issued invoice, whole (no lines) or per line, with a credit note of its own series."""
    require_permission(actor, "invoicing.credit")
    reason = clean_text(reason, "reason", limit=300, required=True)
    invoice = _locked_issued(invoice_id)
    return credit_document(invoice, reason=reason, actor=actor, lines=lines, issued_on=issued_on)


@transaction.atomic(durable=True)
def create_debit_note(
    *, invoice_id: int, reason: str, actor: User, lines: Sequence[LineData] = ()
) -> Invoice:
    """Start a debit note that charges more against an issued invoice; it is issued like an invoice."""
    require_permission(actor, "invoicing.edit_drafts")
    reason = clean_text(reason, "reason", limit=300, required=True)
    invoice = _locked_issued(invoice_id)
    if invoice.document_type == DocumentType.CREDIT_NOTE:
        raise WrongStatus(f"{invoice} is a credit note; a debit note corrects an invoice", field="invoice_id")
    note = new_document(
        customer=invoice.customer,
        entity=invoice.entity,
        actor=actor,
        document_type=DocumentType.DEBIT_NOTE,
        original=invoice,
        language=invoice.language,
        po_number=invoice.po_number,
    )
    note.reason = reason
    note.save(update_fields=["reason"])
    recalculate(note, new_lines=build_lines(note, lines, is_new=True), is_new=True)
    record_event(
        actor=actor,
        action="debit_note.draft_created",
        target=note,
        after={**invoice_state(note), "original": invoice.number, "reason": reason},
    )
    return note


@deadlock_as_conflict
@transaction.atomic(durable=True)
def rebill_invoice(*, invoice_id: int, reason: str, actor: User) -> tuple[Invoice, Invoice]:
    """Credit an invoice in full and start a linked new draft with the same lines, to correct and issue."""
    require_permission(actor, "invoicing.credit")
    require_permission(actor, "invoicing.edit_drafts")
    reason = clean_text(reason, "reason", limit=300, required=True)
    return rebill_document(_locked_issued(invoice_id), reason=reason, actor=actor)


def rebill_document(invoice: Invoice, *, reason: str, actor: User) -> tuple[Invoice, Invoice]:
    """Credit a locked, issued invoice in full and start the linked new draft; the building block of
    re-bills (`rebill_invoice`, a dispute resolved by re-bill), inside the caller's transaction."""
    note = credit_document(invoice, reason=f"Re-bill: {reason}", actor=actor, lines=None, issued_on=None)
    draft = new_document(
        customer=invoice.customer,
        entity=invoice.entity,
        actor=actor,
        language=invoice.language,
        po_number=invoice.po_number,
        reference=invoice.reference,
        service_start=invoice.service_start,
        service_end=invoice.service_end,
        notes=invoice.notes,
        invoice_discount_percent=invoice.invoice_discount_percent,
    )
    draft.rebill_of = invoice
    draft.save(update_fields=["rebill_of"])
    copies = [
        LineData(
            quantity=line.quantity,
            description=line.description,
            product_code=line.product.code if line.product else "",
            unit=line.unit,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            discount_amount=line.discount_amount,
            tax_code=line.tax_code.code,
            service_start=line.service_start,
            service_end=line.service_end,
            reference=line.reference,
        )
        for line in invoice.lines.select_related("product", "tax_code").order_by("line_no")
    ]
    recalculate(draft, new_lines=build_lines(draft, copies, is_new=True), is_new=True)
    record_event(
        actor=actor,
        action="invoice.rebilled",
        target=invoice,
        after={"credit_note": note.number, "new_draft": draft.pk, "reason": reason},
    )
    return note, draft
