"""Issuing: number, journal entry, frozen document and audit event in one transaction."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from billops.audit.models import AuditEvent
from billops.customers.services import add_address, change_address
from billops.customers.validation import AddressData
from billops.invoicing.models import InvoiceStatus, IssuedDocument
from billops.invoicing.rendering.frozen import view_from_json
from billops.invoicing.services.documents import document_view, ensure_pdf
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice
from billops.ledger.models import JournalEntry
from tests.invoicing.factories import draft_for


def test_issue_numbers_posts_freezes_and_audits(clerk, customer):
    draft = draft_for(
        customer,
        clerk,
        LineData(quantity="2", product_code="CONSULT"),
        LineData(quantity="3", product_code="BOOK"),
        issued_on=date(2026, 3, 5),
    )
    assert (draft.subtotal, draft.tax_total, draft.total) == (
        Decimal("374.85"),
        Decimal("62.24"),
        Decimal("437.09"),
    )
    invoice = issue_invoice(invoice_id=draft.pk, actor=clerk)
    assert invoice.number == "INV-2026-000001"
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.open_amount == Decimal("437.09")
    assert invoice.due_on == date(2026, 4, 4)
    entry = JournalEntry.objects.get(pk=invoice.journal_entry_id)
    lines = {(line.account.code, line.debit, line.credit, line.customer_id) for line in entry.lines.all()}
    assert lines == {
        ("1200", Decimal("437.09"), Decimal(0), customer.pk),
        ("4000", Decimal(0), Decimal("374.85"), None),
        ("2200", Decimal(0), Decimal("62.24"), None),
    }
    document = IssuedDocument.objects.get(invoice=invoice)
    assert '"number":"INV-2026-000001"' in document.content and document.pdf is None
    assert view_from_json(document.content) == document_view(invoice)
    event = AuditEvent.objects.get(action="invoice.issued")
    assert event.journal_entry_id == entry.pk and event.after["number"] == "INV-2026-000001"


def test_an_address_changed_after_issue_never_reaches_the_issued_document(clerk, customer):
    data = AddressData(kind="billing", lines="Torstraße 5", city="Berlin", postal_code="10119", country="DE")
    address = add_address(customer_id=customer.pk, data=data, actor=clerk)
    invoice = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=date(2026, 3, 5)).pk, actor=clerk)
    change_address(address_id=address.pk, changes={"city": "Bonn", "postal_code": "53111"}, actor=clerk)
    document = ensure_pdf(invoice.pk)  # rendered after the move
    printed = view_from_json(document.content).bill_to.address_lines
    assert f"{address.postal_code} {address.city}" in printed and "53111 Bonn" not in printed
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(document.pdf))).pages)
    assert address.city in text and "Bonn" not in text
