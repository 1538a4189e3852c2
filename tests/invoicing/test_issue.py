"""Issuing: number, journal entry, frozen document and audit event in one transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billops.audit.models import AuditEvent
from billops.invoicing.models import InvoiceStatus, IssuedDocument
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
    assert "INV-2026-000001" in document.html and document.pdf is None
    event = AuditEvent.objects.get(action="invoice.issued")
    assert event.journal_entry_id == entry.pk and event.after["number"] == "INV-2026-000001"
