"""Reads of billing documents for the services, the API, the pages and `billops check`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet, Sum

from billops.audit.models import AuditEvent
from billops.audit.selectors import history_of
from billops.core.db import given
from billops.core.errors import NotFound
from billops.customers.models import OpenItemMovement
from billops.customers.selectors import off_their_history
from billops.invoicing.digest import content_digest, sha256
from billops.invoicing.models import (
    ISSUED_STATUSES,
    BillingEntity,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from billops.ledger.models import JournalEntry
from billops.ledger.selectors import get_entry

OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)


def get_entity(code: str = "") -> BillingEntity:
    """The billing entity with this code, or the default one when no code is given."""
    entities = BillingEntity.objects.all()
    entity = entities.filter(code=code).first() if code else entities.filter(is_default=True).first()
    if entity is None:
        what = f"no billing entity {code!r}" if code else "no default billing entity; create one first"
        raise NotFound(f"there is {what}", field="entity_code")
    return entity


def get_invoice(invoice_id: int, *, for_update: bool = False) -> Invoice:
    """One document, or NotFound; `for_update` locks its row until the transaction ends."""
    invoices = Invoice.objects.select_for_update(of=("self",)) if for_update else Invoice.objects
    invoice = invoices.select_related("entity", "customer", "series").filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(f"there is no invoice {invoice_id}", field="invoice_id")
    return invoice


def get_invoice_by_number(number: str) -> Invoice:
    invoice = (
        Invoice.objects.select_related("entity", "customer").filter(number=number.strip().upper()).first()
    )
    if invoice is None:
        raise NotFound(f"there is no document numbered {number!r}", field="number")
    return invoice


def list_invoices(
    *,
    status: str = "",
    document_type: str = "",
    customer_id: int | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    overdue_on: date | None = None,
    search: str = "",
) -> QuerySet[Invoice]:
    """Documents newest first; `overdue_on` keeps the open ones whose due date has passed on that day."""
    invoices = Invoice.objects.select_related("customer").filter(
        **given(
            status=status,
            document_type=document_type,
            customer_id=customer_id,
            issued_on__gte=issued_from,
            issued_on__lte=issued_to,
        )
    )
    if overdue_on is not None:
        invoices = invoices.filter(status__in=OPEN_STATUSES, due_on__lt=overdue_on)
    if search:
        text = search.strip()
        invoices = invoices.filter(
            Q(number__icontains=text)
            | Q(customer__account_number__icontains=text)
            | Q(customer__legal_name__icontains=text)
            | Q(po_number__icontains=text)
        )
    # drafts without a date first on every database, then the newest
    return invoices.order_by(F("issued_on").desc(nulls_first=True), "-id")


def issued_documents() -> QuerySet[Invoice]:
    return Invoice.objects.filter(status__in=ISSUED_STATUSES)


def open_items_by_customer() -> dict[tuple[int, str], Decimal]:
    """Open amounts of issued documents per (customer id, currency): their share of the receivables."""
    sums = issued_documents().values("customer_id", "currency").annotate(open=Sum("open_amount")).order_by()
    return {(row["customer_id"], row["currency"]): row["open"] for row in sums}


def documents_off_their_history() -> list[tuple[str, str, Decimal, Decimal]]:
    """(number, currency, open amount, movements' total) of issued documents whose history does not add up."""
    rows = off_their_history(issued_documents(), OpenItemMovement.Kind.DOCUMENT)
    return list(rows.values_list("number", "currency", "open_amount", "moved"))


def verify_issued_documents() -> list[tuple[str, str]]:
    """(number, what) for every issued document whose data, frozen content or PDF no longer matches its
    hash."""
    problems = []
    documents = (
        issued_documents()
        .select_related("document")
        .prefetch_related("lines", "taxes")
        .order_by("series_id", "sequence_no")
    )
    for invoice in documents.iterator(chunk_size=500):
        number = invoice.number or str(invoice.pk)
        if content_digest(invoice) != invoice.digest:
            problems.append((number, "its content digest"))
        document = getattr(invoice, "document", None)
        if document is None:
            problems.append((number, "its frozen document, which is missing,"))
            continue
        if sha256(document.content.encode()) != document.content_sha256:
            problems.append((number, "its frozen content"))
        if document.pdf is not None and sha256(bytes(document.pdf)) != document.pdf_sha256:
            problems.append((number, "its PDF"))
    return problems


def count_documents(document_type: str = DocumentType.INVOICE) -> int:
    return issued_documents().filter(document_type=document_type).count()


# --- for the API ---------------------------------------------------------------------------------


def get_invoice_detail(invoice_id: int) -> Invoice:
    """One document with all its detail shows (lines, tax summary, people, links), or NotFound."""
    lines = InvoiceLine.objects.select_related("product", "tax_code", "revenue_account", "credits_line")
    found = (
        Invoice.objects.select_related(
            "entity", "customer", "original", "rebill_of", "created_by", "submitted_by", "approved_by",
            "issued_by", "voided_by", "hold_override_by",
        )
        .prefetch_related(
            Prefetch("lines", lines.order_by("line_no")), "taxes__tax_code", "corrections", "rebills"
        )
        .filter(pk=invoice_id)
        .first()
    )  # fmt: skip
    if found is None:
        raise NotFound(f"there is no invoice {invoice_id}", field="invoice_id")
    return found


def list_entities() -> QuerySet[BillingEntity]:
    """Every billing entity with its approval thresholds, by code."""
    return BillingEntity.objects.prefetch_related("approval_thresholds").order_by("code")


def invoice_history(invoice: Invoice) -> QuerySet[AuditEvent]:
    """Every audit event about the document, newest first: drafting, approval, issue, void, re-bill."""
    return history_of(invoice)


def journal_entry_for(invoice: Invoice) -> JournalEntry:
    """The entry that issuing the document posted; NotFound while it is not issued."""
    if invoice.journal_entry_id is None:
        raise NotFound(f"{invoice} is not issued, so nothing is posted for it yet", field="invoice_id")
    return get_entry(invoice.journal_entry_id)
