"""Statements of account: every movement on a customer's receivables in a period, and what is still open.

The movements and balances come from the receivables control account in the ledger (the journal lines
that carry the customer's id), so anything that posts there — documents, opening balances, and later
payments — appears without this module knowing about it, and the closing balance is the ledger's.
The aging is built from the open items (documents and opening balances) issued up to the statement date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import translation
from django.utils.translation import gettext

from billops.core.errors import InvalidInput
from billops.customers.models import Customer, OpeningBalance
from billops.customers.selectors import get_customer
from billops.invoicing.models import SETTLED_STATUSES, DocumentType, Invoice, InvoiceStatus
from billops.invoicing.rendering.formatting import resolve_language
from billops.invoicing.rendering.html import render_statement_html
from billops.invoicing.rendering.pdf import render_pdf
from billops.invoicing.rendering.reference import creditor_reference
from billops.invoicing.rendering.views import AgingBucket, Party, StatementRow, StatementView
from billops.invoicing.selectors import get_entity
from billops.invoicing.services.documents import KIND, customer_party, entity_bank, entity_party
from billops.ledger.accounts import RECEIVABLES, control_account
from billops.ledger.models import JournalLine
from billops.ledger.selectors import settle

INVOICE_SOURCE = "invoicing.invoice"
OPENING_BALANCE_SOURCE = "customers.openingbalance"
# other documents that post to receivables print as the kinds the statement template translates
KNOWN_SOURCE_KINDS = {
    "payments.payment": "payment",
    "payments.refund": "refund",
    "collections.writeoff": "write_off",
}

_DASH = "\u2013"  # an en dash, as printed between two numbers
# (upper bound of days past due, label per language); None = no upper bound
AGING_BUCKETS: tuple[tuple[int | None, dict[str, str]], ...] = (
    (0, {"en": "Current", "de": "Nicht fällig", "fr": "Non échu"}),
    (30, {"en": f"1{_DASH}30 days", "de": f"1{_DASH}30 Tage", "fr": "1 à 30 jours"}),
    (60, {"en": f"31{_DASH}60 days", "de": f"31{_DASH}60 Tage", "fr": "31 à 60 jours"}),
    (90, {"en": f"61{_DASH}90 days", "de": f"61{_DASH}90 Tage", "fr": "61 à 90 jours"}),
    (None, {"en": "Over 90 days", "de": "Über 90 Tage", "fr": "Plus de 90 jours"}),
)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A document or opening balance not yet settled, as the aging sees it."""

    due_on: date
    open_amount: Decimal  # positive = the customer owes us; an unused credit note is negative


def statement_language(customer: Customer) -> str:
    """The customer's document language, or the default billing entity's."""
    return resolve_language(customer.document_language or get_entity().language)


def statement_for(*, customer_id: int, period_start: date, as_of: date) -> StatementView:
    """The customer's statement from `period_start` to `as_of` (both included), in its currency."""
    if period_start > as_of:
        raise InvalidInput(
            f"the period starts ({period_start}) after the statement date ({as_of})", field="period_start"
        )
    customer = get_customer(customer_id)
    entity = get_entity()
    language = statement_language(customer)
    currency = customer.currency
    lines = JournalLine.objects.filter(
        account=control_account(RECEIVABLES), customer_id=customer.pk, currency=currency
    )
    before = lines.filter(entry__posted_on__lt=period_start).aggregate(
        debits=Sum("debit"), credits=Sum("credit")
    )
    opening = (settle(before["debits"], currency) - settle(before["credits"], currency)).amount
    movements = list(
        lines.filter(entry__posted_on__gte=period_start, entry__posted_on__lte=as_of)
        .select_related("entry")
        .order_by("entry__posted_on", "entry_id", "line_no")
    )
    rows, balance = [], opening
    with translation.override(language):
        described = _documents(movements)
        for line in movements:
            kind, number, due_on = described[line.pk]
            balance += line.debit - line.credit
            rows.append(
                StatementRow(
                    on=line.entry.posted_on,
                    kind=kind,
                    number=number,
                    description=line.entry.memo,
                    due_on=due_on,
                    debit=line.debit,
                    credit=line.credit,
                    balance=balance,
                )
            )
    return StatementView(
        language=language,
        currency=currency,
        seller=entity_party(entity),
        customer=_customer(customer),
        customer_account=customer.account_number,
        period_start=period_start,
        as_of=as_of,
        opening_balance=opening,
        rows=tuple(rows),
        closing_balance=balance,
        aging=aging(open_items(customer, as_of), as_of=as_of, language=language),
        bank=entity_bank(entity),
        payment_reference=creditor_reference(customer.account_number),
    )


def statement_pdf(*, customer_id: int, period_start: date, as_of: date) -> bytes:
    """The statement rendered as a PDF (not stored: a statement is computed whenever it is asked for)."""
    view = statement_for(customer_id=customer_id, period_start=period_start, as_of=as_of)
    return render_pdf(render_statement_html(view))


def statement_filename(customer: Customer, as_of: date) -> str:
    return f"Statement-{customer.account_number}-{as_of.isoformat()}.pdf"


def open_items(customer: Customer, as_of: date) -> list[OpenItem]:
    """The customer's unsettled documents and opening balances dated up to `as_of`, in its currency.

    Their open amounts are today's: a settlement after `as_of` already shows (there are no payments yet).
    """
    documents = (
        Invoice.objects.filter(customer=customer, currency=customer.currency, issued_on__lte=as_of)
        .filter(status__in=[InvoiceStatus.ISSUED, *SETTLED_STATUSES])  # not drafts, not void
        .exclude(open_amount=0)
        .values_list("document_type", "issued_on", "due_on", "open_amount")
    )
    items = []
    for document_type, issued_on, due_on, open_amount in documents:
        # a credit note has no due date: it counts from the day it was issued (which every issued one has)
        due = due_on if document_type != DocumentType.CREDIT_NOTE and due_on else issued_on
        items.append(OpenItem(due_on=due or as_of, open_amount=open_amount))
    balances = (
        OpeningBalance.objects.filter(customer=customer, currency=customer.currency, balance_on__lte=as_of)
        .exclude(open_amount=0)
        .values_list("balance_on", "open_amount")
    )
    items += [OpenItem(due_on=balance_on, open_amount=open_amount) for balance_on, open_amount in balances]
    return items


def aging(items: list[OpenItem], *, as_of: date, language: str) -> tuple[AgingBucket, ...]:
    """Open amounts by days past due on `as_of`: current, 1 to 30, 31 to 60, 61 to 90 and over 90 days.

    The buckets add up to the items' open total.
    """
    totals = [Decimal(0)] * len(AGING_BUCKETS)
    for item in items:
        overdue = (as_of - item.due_on).days
        index = next(
            position for position, (limit, _) in enumerate(AGING_BUCKETS) if limit is None or overdue <= limit
        )
        totals[index] += item.open_amount
    language = resolve_language(language)
    return tuple(
        AgingBucket(label=labels[language], amount=total)
        for (_, labels), total in zip(AGING_BUCKETS, totals, strict=True)
    )


def _customer(customer: Customer) -> Party:
    party = customer_party(customer)
    assert party is not None  # the billing address falls back to the customer's country
    return party


def _documents(lines: list[JournalLine]) -> dict[int, tuple[str, str, date | None]]:
    """Per journal line: the kind, number and due date of the document its entry posts."""
    invoice_ids = {int(line.entry.source_id) for line in lines if line.entry.source_type == INVOICE_SOURCE}
    balance_ids = {
        int(line.entry.source_id) for line in lines if line.entry.source_type == OPENING_BALANCE_SOURCE
    }
    invoices = Invoice.objects.in_bulk(invoice_ids)
    balances = OpeningBalance.objects.in_bulk(balance_ids)
    described: dict[int, tuple[str, str, date | None]] = {}
    for line in lines:
        source_type, source_id = line.entry.source_type, line.entry.source_id
        if source_type == INVOICE_SOURCE and int(source_id) in invoices:
            invoice = invoices[int(source_id)]
            # a void reverses the document: it has no due date of its own
            due_on = None if line.entry.reversal_of_id else invoice.due_on
            described[line.pk] = (KIND[invoice.document_type], invoice.number or "", due_on)
        elif source_type == OPENING_BALANCE_SOURCE and int(source_id) in balances:
            # the catalogue translates this for the statement's own opening row
            described[line.pk] = (gettext("Opening balance"), balances[int(source_id)].reference, None)
        else:
            described[line.pk] = (KNOWN_SOURCE_KINDS.get(source_type, ""), source_id, None)
    return described
