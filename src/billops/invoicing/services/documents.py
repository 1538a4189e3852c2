"""The printed document: its view built from the database, frozen at issue, the PDF rendered from it.

The view (parties, addresses, lines, totals, notes) is written as canonical JSON and hashed inside the
issuing transaction, so everything a document shows is fixed with its number. The PDF is rendered from
that frozen content afterwards, once, by whoever needs it first (the PDF page, a delivery,
`billops jobs`), because rendering is too slow to run under the series lock or in a bill run.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from billops.access import clock
from billops.audit.services import record_event
from billops.catalog.tax import Treatment
from billops.customers.models import Address, Customer
from billops.invoicing.digest import sha256
from billops.invoicing.models import BillingEntity, DocumentType, Invoice, InvoiceTax, IssuedDocument
from billops.invoicing.rendering.frozen import view_from_json, view_to_json
from billops.invoicing.rendering.html import render_document_html
from billops.invoicing.rendering.pdf import render_pdf
from billops.invoicing.rendering.reference import creditor_reference
from billops.invoicing.rendering.views import (
    BankDetails,
    DocumentKind,
    DocumentLine,
    DocumentView,
    Party,
    TaxSummaryRow,
)
from billops.invoicing.rendering.wording import reverse_charge_note

KIND: dict[str, DocumentKind] = {
    DocumentType.INVOICE: "invoice",
    DocumentType.CREDIT_NOTE: "credit_note",
    DocumentType.DEBIT_NOTE: "debit_note",
}


def _place_lines(lines: str, postal_code: str, city: str, region: str) -> tuple[str, ...]:
    town = " ".join(part for part in (postal_code, city) if part)
    return tuple(line for line in [*lines.splitlines(), town, region] if line.strip())


def entity_party(entity: BillingEntity) -> Party:
    return Party(
        name=entity.legal_name,
        address_lines=_place_lines(entity.address_lines, entity.postal_code, entity.city, entity.region),
        country=entity.country,
        vat_id=entity.vat_id,
        tax_id=entity.tax_id,
        email=entity.email,
        phone=entity.phone,
    )


def entity_bank(entity: BillingEntity) -> BankDetails | None:
    if not (entity.iban or entity.bank_account_number):
        return None
    return BankDetails(
        account_holder=entity.bank_account_holder or entity.legal_name,
        iban=entity.iban,
        bic=entity.bic,
        bank_name=entity.bank_name,
        account_number=entity.bank_account_number,
        routing_number=entity.bank_routing_number,
    )


def customer_party(customer: Customer, kind: str = Address.Kind.BILLING) -> Party | None:
    # all of them, not a filter: a document's services read the customer's addresses once
    address = next((address for address in customer.addresses.all() if address.kind == kind), None)
    if address is None and kind != Address.Kind.BILLING:
        return None
    return Party(
        name=customer.legal_name,
        address_lines=_place_lines(address.lines, address.postal_code, address.city, address.region)
        if address
        else (),
        country=address.country if address else customer.country,
        vat_id=customer.vat_id,
        tax_id=customer.tax_id,
    )


def _tax_note(tax: InvoiceTax, language: str) -> str:
    """The note printed for a tax row; the reverse-charge statement in the document's language."""
    return reverse_charge_note(language) if tax.treatment == Treatment.REVERSE_CHARGE else tax.note


def payment_reference(invoice: Invoice) -> str:
    """The ISO 11649 RF reference a payer quotes, built from the document number."""
    return creditor_reference(invoice.number) if invoice.number else ""


def document_view(invoice: Invoice) -> DocumentView:
    """What the document shows, from its rows; a document without a number prints as a draft."""
    lines = sorted(invoice.lines.all(), key=lambda line: line.line_no)  # uses a prefetch when there is one
    taxes = list(invoice.taxes.all())
    notes = {tax.pk: _tax_note(tax, invoice.language) for tax in taxes}
    legal = sorted({note for note in notes.values() if note})
    is_invoice = invoice.document_type != DocumentType.CREDIT_NOTE
    customer = invoice.customer
    bill_to = customer_party(customer)
    assert bill_to is not None
    return DocumentView(
        kind=KIND[invoice.document_type] if invoice.number else "draft",
        language=invoice.language,
        currency=invoice.currency,
        number=invoice.number or "",
        issue_on=invoice.issued_on or clock.today(),
        due_on=invoice.due_on if is_invoice else None,
        seller=entity_party(invoice.entity),
        bill_to=bill_to,
        ship_to=customer_party(customer, Address.Kind.SHIPPING),
        lines=tuple(
            DocumentLine(
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                net=line.net,
                tax_label=line.tax_label,
                tax_rate=line.tax_rate,
                service_start=line.service_start,
                service_end=line.service_end,
                reference=line.reference,
            )
            for line in lines
        ),
        tax_summary=tuple(
            TaxSummaryRow(
                label=tax.label, rate=tax.rate, taxable=tax.taxable, tax=tax.tax, note=notes[tax.pk]
            )
            for tax in taxes
        ),
        subtotal=invoice.subtotal,
        discount_total=invoice.discount_total,
        tax_total=invoice.tax_total,
        total=invoice.total,
        terms=invoice.terms_text,
        po_number=invoice.po_number,
        reference=invoice.reference,
        original_number=(invoice.original.number or "") if invoice.original else "",
        service_start=invoice.service_start,
        service_end=invoice.service_end,
        notes="\n".join(part for part in (invoice.reason, invoice.notes) if part),
        legal_notes=tuple(legal),
        bank=entity_bank(invoice.entity) if is_invoice else None,
        payment_reference=payment_reference(invoice) if is_invoice else "",
        remittance_text=customer.remittance_instructions,
        customer_account=customer.account_number,
    )


def freeze_document(invoice: Invoice) -> IssuedDocument:
    """Store what the document shows in the issuing transaction; its hash is the legal content."""
    document = frozen_document(invoice)
    document.save(force_insert=True)
    return document


def frozen_document(invoice: Invoice) -> IssuedDocument:
    """The document's frozen content and its hash, not yet written (a bill run writes many at once)."""
    content = view_to_json(document_view(invoice))
    return IssuedDocument(invoice=invoice, content=content, content_sha256=sha256(content.encode()))


def ensure_pdf(invoice_id: int) -> IssuedDocument:
    """The issued document with its PDF, rendering it from the frozen content the first time it is needed."""
    document = IssuedDocument.objects.get(invoice_id=invoice_id)
    if document.pdf is not None:
        return document
    # outside any transaction: it takes a while and locks nothing
    pdf = render_pdf(render_document_html(view_from_json(document.content)))
    with transaction.atomic():
        # written once: a concurrent render of the same HTML lost the race and keeps the first PDF
        written = IssuedDocument.objects.filter(pk=document.pk, pdf__isnull=True).update(
            pdf=pdf, pdf_sha256=sha256(pdf), rendered_at=timezone.now()
        )
        if written:
            record_event(
                actor=None,
                action="invoice.pdf_rendered",
                target=document.invoice,
                after={
                    "pdf_sha256": sha256(pdf),
                    "content_sha256": document.content_sha256,
                    "bytes": len(pdf),
                },
            )
    document.refresh_from_db()
    return document


def render_pending_pdfs(limit: int = 100) -> int:
    """Render the PDFs not yet rendered, oldest first; returns how many were rendered."""
    pending = list(
        IssuedDocument.objects.filter(pdf__isnull=True)
        .order_by("id")
        .values_list("invoice_id", flat=True)[:limit]
    )
    for invoice_id in pending:
        ensure_pdf(invoice_id)
    return len(pending)
