"""Drafts: creating an invoice, changing its header and lines, deleting it before it is issued.

A draft has no number. Changing a submitted or approved draft sends it back to draft: an approval is
for exactly what was approved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max, prefetch_related_objects

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import json_safe, record_event
from billops.core.errors import CurrencyMismatch, InvalidInput, NotFound
from billops.core.money import Rounding
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.invoicing.errors import NotEditable
from billops.invoicing.models import (
    BillingEntity,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)
from billops.invoicing.selectors import get_entity, get_invoice
from billops.invoicing.services.lines import (
    MAX_LINES,
    LineData,
    LineSources,
    build_line,
    clean_document_date,
    clean_percent,
    clean_text,
    keep_in_memory,
    recalculate,
)

HEADER_FIELDS = (
    "issued_on", "service_start", "service_end", "po_number", "reference", "notes",
    "invoice_discount_percent", "language",
)  # fmt: skip
LANGUAGES = ("en", "de", "fr")


def invoice_state(invoice: Invoice) -> dict[str, Any]:
    """The header and totals of a document as audit data."""
    fields = [*HEADER_FIELDS, "status", "currency", "subtotal", "tax_total", "total"]
    return json_safe({name: getattr(invoice, name) for name in fields})


def line_state(line: InvoiceLine) -> dict[str, Any]:
    return json_safe({
        "line_no": line.line_no, "product": line.product.code if line.product else "",
        "description": line.description, "quantity": line.quantity, "unit_price": line.unit_price,
        "discount_percent": line.discount_percent, "discount_amount": line.discount_amount,
        "tax_code": line.tax_code.code, "net": line.net, "tax": line.tax_amount,
    })  # fmt: skip


def locked_draft(invoice_id: int) -> Invoice:
    """The document, locked, refusing when it is no longer editable."""
    invoice = get_invoice(invoice_id, for_update=True)
    if not invoice.is_editable:
        raise NotEditable(
            f"{invoice} is {invoice.get_status_display().lower()} and can no longer be changed; "
            "raise a credit or debit note to correct it",
            field="status",
        )
    return invoice


def _clean_header(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(HEADER_FIELDS)
    if unknown:
        raise InvalidInput(f"{sorted(unknown)[0]} cannot be changed on a draft", field=sorted(unknown)[0])
    cleaned = dict(values)
    for name in ("po_number", "reference"):
        if name in cleaned:
            cleaned[name] = clean_text(cleaned[name], name, limit=100 if name == "reference" else 60)
    if "notes" in cleaned:
        cleaned["notes"] = clean_text(cleaned["notes"], "notes", limit=2000)
    if "invoice_discount_percent" in cleaned:
        percent = clean_percent(cleaned["invoice_discount_percent"] or "0", "invoice_discount_percent")
        if percent >= 100:
            raise InvalidInput(
                "an invoice discount must be less than 100 %", field="invoice_discount_percent"
            )
        cleaned["invoice_discount_percent"] = percent
    if "language" in cleaned and cleaned["language"] not in LANGUAGES:
        raise InvalidInput(f"documents are written in {', '.join(LANGUAGES)}", field="language")
    for name in ("issued_on", "service_start", "service_end"):
        if name in cleaned:
            cleaned[name] = clean_document_date(cleaned[name], name)
    return cleaned


def _check_service_period(invoice: Invoice) -> None:
    if invoice.service_start and invoice.service_end and invoice.service_end < invoice.service_start:
        raise InvalidInput("the service period ends before it starts", field="service_end")


def _back_to_draft(invoice: Invoice) -> None:
    """A change after submission withdraws it: the approval was for what was submitted."""
    if invoice.status != InvoiceStatus.DRAFT:
        invoice.status = InvoiceStatus.DRAFT
        invoice.submitted_by = invoice.submitted_at = invoice.approved_by = invoice.approved_at = None
        invoice.save(update_fields=["status", "submitted_by", "submitted_at", "approved_by", "approved_at"])


def build_lines(
    invoice: Invoice, lines: Sequence[LineData], *, prefix: str = "lines", is_new: bool = False
) -> list[InvoiceLine]:
    """Unsaved lines numbered after the document's last one; `recalculate(new_lines=…)` saves them.
    `is_new`: the document was created in this transaction and has no lines yet."""
    start = 1 if is_new else (invoice.lines.aggregate(last=Max("line_no"))["last"] or 0) + 1
    if start - 1 + len(lines) > MAX_LINES:
        raise InvalidInput(f"a document holds at most {MAX_LINES} lines", field=prefix)
    sources = LineSources(invoice, lines)
    return [
        build_line(invoice, data, line_no=start + index, prefix=f"{prefix}.{index}.", sources=sources)
        for index, data in enumerate(lines)
    ]


def document_for(
    *,
    customer: Customer,
    entity: BillingEntity,
    actor: User,
    document_type: str = DocumentType.INVOICE,
    currency: str | None = None,
    original: Invoice | None = None,
    **header: Any,
) -> Invoice:
    """A document for a customer with the entity's and customer's defaults filled in, checked but not saved:
    a bill run's preview prices one without writing. `new_document` saves it."""
    if customer.status == Customer.Status.CLOSED:
        raise InvalidInput(
            f"{customer.account_number} is closed and takes no new documents", field="customer_id"
        )
    currency = currency or customer.currency
    if currency != customer.currency:
        raise CurrencyMismatch(
            f"{customer.account_number} is billed in {customer.currency}, not {currency}", field="currency"
        )
    header = _clean_header(header)
    header.setdefault("language", customer.document_language or entity.language)
    invoice = Invoice(
        document_type=document_type,
        entity=entity,
        customer=customer,
        currency=currency,
        tax_rounding=entity.tax_rounding,
        rounding=Rounding.HALF_UP.value,
        original=original,
        created_by=actor,
        **header,
    )
    _check_service_period(invoice)
    # the tax place and the printed addresses come from the same rows: read them once
    prefetch_related_objects([customer], "addresses")
    return invoice


def new_document(**fields: Any) -> Invoice:
    """`document_for(**fields)`, saved, without lines yet."""
    invoice = document_for(**fields)
    invoice.save()
    keep_in_memory(invoice, corrections=[], rebills=[])  # a new document has neither
    return invoice


def save_priced(invoice: Invoice, lines: Sequence[InvoiceLine], taxes: Sequence[InvoiceTax]) -> Invoice:
    """Write a document priced in memory (`document_for`, `build_lines`, `calculate`) exactly as priced."""
    invoice.save()
    InvoiceLine.objects.bulk_create(lines)
    InvoiceTax.objects.bulk_create(taxes)
    keep_in_memory(invoice, lines=lines, taxes=taxes, corrections=[], rebills=[])
    return invoice


@transaction.atomic(durable=True)
def create_draft(
    *,
    customer_id: int,
    actor: User,
    entity_code: str = "",
    currency: str | None = None,
    lines: Sequence[LineData] = (),
    **header: Any,
) -> Invoice:
    """Start an invoice for a customer, with its lines if given; priced and taxed as of its date."""
    require_permission(actor, "invoicing.edit_drafts")
    customer = get_customer(customer_id, for_update=True)
    return start_draft(
        customer=customer, actor=actor, entity_code=entity_code, currency=currency, lines=lines, **header
    )


def start_draft(
    *,
    customer: Customer,
    actor: User,
    entity_code: str = "",
    currency: str | None = None,
    lines: Sequence[LineData] = (),
    **header: Any,
) -> Invoice:
    """`create_draft`'s building block, inside the caller's transaction, the customer locked by it."""
    invoice = new_document(
        customer=customer, entity=get_entity(entity_code), actor=actor, currency=currency, **header
    )
    recalculate(invoice, new_lines=build_lines(invoice, lines, is_new=True), is_new=True)
    record_event(
        actor=actor,
        action="invoice.draft_created",
        target=invoice,
        after={**invoice_state(invoice), "lines": [line_state(line) for line in invoice.lines.all()]},
    )
    return invoice


@transaction.atomic(durable=True)
def change_draft(*, invoice_id: int, actor: User, **changes: Any) -> Invoice:
    """Change a draft's header (dates, PO number, reference, notes, invoice discount, language). A change
    that changes nothing (an empty PATCH, the same values again) leaves the draft as it is: an approved
    one stays approved, and nothing is recorded."""
    require_permission(actor, "invoicing.edit_drafts")
    invoice = locked_draft(invoice_id)
    before = invoice_state(invoice)
    changed = {
        name: value for name, value in _clean_header(changes).items() if getattr(invoice, name) != value
    }
    if not changed:
        return invoice
    for name, value in changed.items():
        setattr(invoice, name, value)
    _check_service_period(invoice)
    invoice.save()
    _back_to_draft(invoice)
    recalculate(invoice)
    record_event(
        actor=actor,
        action="invoice.draft_changed",
        target=invoice,
        before=before,
        after=invoice_state(invoice),
    )
    return invoice


@transaction.atomic(durable=True)
def add_line(*, invoice_id: int, line: LineData, actor: User) -> InvoiceLine:
    """Add a line to a draft."""
    require_permission(actor, "invoicing.edit_drafts")
    invoice = locked_draft(invoice_id)
    (added,) = build_lines(invoice, [line], prefix="line")
    _back_to_draft(invoice)
    recalculate(invoice, new_lines=[added])
    added.refresh_from_db()
    record_event(actor=actor, action="invoice.line_added", target=invoice, after=line_state(added))
    return added


def _locked_line(invoice: Invoice, line_no: int) -> InvoiceLine:
    line = invoice.lines.select_related("product", "tax_code").filter(line_no=line_no).first()
    if line is None:
        raise NotFound(f"{invoice} has no line {line_no}", field="line_no")
    return line


@transaction.atomic(durable=True)
def change_line(*, invoice_id: int, line_no: int, line: LineData, actor: User) -> InvoiceLine:
    """Replace what a draft line says; it keeps its number."""
    require_permission(actor, "invoicing.edit_drafts")
    invoice = locked_draft(invoice_id)
    current = _locked_line(invoice, line_no)
    before = line_state(current)
    replacement = build_line(invoice, line, line_no=line_no, prefix="line.")
    replacement.pk = current.pk
    replacement.save()
    _back_to_draft(invoice)
    recalculate(invoice)
    replacement.refresh_from_db()
    record_event(
        actor=actor,
        action="invoice.line_changed",
        target=invoice,
        before=before,
        after=line_state(replacement),
    )
    return replacement


@transaction.atomic(durable=True)
def remove_line(*, invoice_id: int, line_no: int, actor: User) -> Invoice:
    """Take a line off a draft; the lines after it keep their numbers."""
    require_permission(actor, "invoicing.edit_drafts")
    invoice = locked_draft(invoice_id)
    line = _locked_line(invoice, line_no)
    before = line_state(line)
    line.delete()
    _back_to_draft(invoice)
    recalculate(invoice)
    record_event(actor=actor, action="invoice.line_removed", target=invoice, before=before)
    return invoice


# what other apps do before a draft goes, in its transaction: billing makes a run's work pending again
DraftReleaseHook = Callable[[Invoice, User], None]
_DRAFT_RELEASE_HOOKS: list[DraftReleaseHook] = []


def register_draft_release(hook: DraftReleaseHook) -> None:
    if hook not in _DRAFT_RELEASE_HOOKS:
        _DRAFT_RELEASE_HOOKS.append(hook)


@transaction.atomic(durable=True)
def delete_draft(*, invoice_id: int, actor: User) -> None:
    """Throw a draft away; it never had a number, so nothing is lost from a series. What a bill run put
    on it is pending again (the hooks registered by other apps)."""
    require_permission(actor, "invoicing.edit_drafts")
    invoice = locked_draft(invoice_id)
    before = {**invoice_state(invoice), "lines": [line_state(line) for line in invoice.lines.all()]}
    for hook in _DRAFT_RELEASE_HOOKS:
        hook(invoice, actor)
    record_event(actor=actor, action="invoice.draft_deleted", target=invoice, before=before)
    invoice.taxes.all().delete()
    invoice.lines.all().delete()
    invoice.delete()
