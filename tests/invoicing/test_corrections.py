"""Corrections: void keeps the number and reverses the entry; credit notes never credit more than is left,
settle the invoice first and keep the rest as a credit; debit notes and re-bills are linked documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.audit.models import AuditEvent
from billops.core.errors import InvalidAmount, InvalidInput, NotFound
from billops.invoicing.errors import OverCredit, WrongStatus
from billops.invoicing.models import CreditAllocation, InvoiceStatus
from billops.invoicing.services.corrections import (
    CreditLine,
    create_debit_note,
    issue_credit_note,
    rebill_invoice,
    void_invoice,
)
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice
from billops.ledger.models import JournalEntry
from billops.ledger.selectors import receivables_by_customer
from tests.invoicing.factories import draft_for
from tests.invoicing.state import invoicing_state

ON = date(2026, 3, 5)


@pytest.fixture
def invoice(clerk, customer):
    """2 hours of consulting (300.00 + 57.00 VAT) and 3 handbooks (74.85 + 5.24 VAT): 437.09."""
    lines = (LineData(quantity="2", product_code="CONSULT"), LineData(quantity="3", product_code="BOOK"))
    return issue_invoice(invoice_id=draft_for(customer, clerk, *lines, issued_on=ON).pk, actor=clerk)


def entry_lines(entry_id):
    entry = JournalEntry.objects.get(pk=entry_id)
    return sorted((line.account.code, line.debit, line.credit) for line in entry.lines.all())


def test_void_keeps_the_number_and_reverses_the_entry(clerk, invoice, customer):
    voided = void_invoice(invoice_id=invoice.pk, reason="duplicate of INV-7", actor=clerk, voided_on=ON)
    assert (voided.status, voided.number, voided.open_amount) == (InvoiceStatus.VOID, "INV-2026-000001", 0)
    reversal = JournalEntry.objects.get(pk=voided.void_entry_id)
    assert reversal.reversal_of_id == invoice.journal_entry_id
    assert entry_lines(reversal.pk) == [
        ("1200", Decimal(0), Decimal("437.09")),
        ("2200", Decimal("62.24"), Decimal(0)),
        ("4000", Decimal("374.85"), Decimal(0)),
    ]
    assert receivables_by_customer(customer_id=customer.pk) == {(customer.pk, "EUR"): Decimal("0.00")}
    event = AuditEvent.objects.get(action="invoice.voided")
    assert (event.journal_entry_id, event.after["reason"]) == (reversal.pk, "duplicate of INV-7")


def test_void_needs_a_reason_and_an_untouched_invoice(clerk, invoice):
    before = invoicing_state()
    with pytest.raises(InvalidInput, match="reason is required"):
        void_invoice(invoice_id=invoice.pk, reason="  ", actor=clerk)
    assert invoicing_state() == before
    issue_credit_note(
        invoice_id=invoice.pk, reason="goodwill", actor=clerk, lines=[CreditLine(1, amount="10")]
    )
    before = invoicing_state()
    with pytest.raises(WrongStatus, match="paid or credited in part"):
        void_invoice(invoice_id=invoice.pk, reason="too late", actor=clerk)
    assert invoicing_state() == before


def test_a_whole_credit_note_settles_the_invoice(clerk, invoice, customer):
    note = issue_credit_note(invoice_id=invoice.pk, reason="cancelled order", actor=clerk, issued_on=ON)
    assert (note.number, note.total, note.original_id) == ("CN-2026-000001", Decimal("437.09"), invoice.pk)
    assert entry_lines(note.journal_entry_id) == [
        ("1200", Decimal(0), Decimal("437.09")),
        ("2200", Decimal("62.24"), Decimal(0)),
        ("4000", Decimal("374.85"), Decimal(0)),
    ]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount, invoice.credited_amount) == (
        InvoiceStatus.CREDITED, Decimal(0), Decimal("437.09")
    )  # fmt: skip
    assert note.open_amount == 0
    assert CreditAllocation.objects.get().amount == Decimal("437.09")
    assert AuditEvent.objects.get(action="credit_note.issued").journal_entry_id == note.journal_entry_id


def test_a_credit_by_quantity_is_pro_rata_at_the_original_rate(clerk, invoice):
    note = issue_credit_note(
        invoice_id=invoice.pk, reason="one handbook damaged", actor=clerk, lines=[CreditLine(2, quantity="1")]
    )
    line = note.lines.get()
    assert (line.quantity, line.net, line.tax_amount, line.tax_rate) == (
        Decimal(1), Decimal("24.95"), Decimal("1.75"), Decimal(7)
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PARTLY_PAID, Decimal("410.39"))


def test_never_more_than_is_still_creditable(clerk, invoice):
    issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(2, quantity="2")])
    before = invoicing_state()
    with pytest.raises(OverCredit, match=r"2 is more than the 1 still creditable"):
        issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(2, quantity="2")])
    with pytest.raises(OverCredit, match=r"line 1: 300\.01 EUR is more than the 300\.00 EUR left to credit"):
        issue_credit_note(
            invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(1, amount="300.01")]
        )
    for amount in ("0", "-5"):
        with pytest.raises(InvalidAmount, match=f"the amount to credit must be more than zero, got {amount}"):
            issue_credit_note(
                invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(1, amount=amount)]
            )
    assert invoicing_state() == before
    rest = issue_credit_note(invoice_id=invoice.pk, reason="the rest", actor=clerk)
    # what was left: 300.00 + 57.00 on line 1, and the last handbook 24.95 + 1.75 (5.24 - 3.49) on line 2
    assert rest.total == Decimal("383.70")
    with pytest.raises(OverCredit, match="credited in full"):
        issue_credit_note(invoice_id=invoice.pk, reason="again", actor=clerk)


@pytest.mark.parametrize(
    ("lines", "error", "field"),
    [
        ([CreditLine(9)], NotFound, "lines.0.line_no"),
        ([CreditLine(1), CreditLine(1)], InvalidInput, "lines.1.line_no"),
        ([CreditLine(1, quantity="1", amount="1")], InvalidInput, "lines.0"),
        ([CreditLine(1, quantity="-1")], Exception, "lines.0.quantity"),
    ],
)
def test_bad_credit_lines_are_refused(clerk, invoice, lines, error, field):
    before = invoicing_state()
    with pytest.raises(error) as refused:
        issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=lines)
    assert refused.value.field == field
    assert invoicing_state() == before


def test_a_credit_beyond_the_open_amount_stays_as_credit_on_account(clerk, customer, invoice):
    # a payment is simulated by a first credit note: the invoice is settled, the second note is a credit
    issue_credit_note(invoice_id=invoice.pk, reason="a", actor=clerk, lines=[CreditLine(1, amount="100")])
    invoice.refresh_from_db()
    assert invoice.open_amount == Decimal("318.09")
    note = issue_credit_note(
        invoice_id=invoice.pk, reason="b", actor=clerk, lines=[CreditLine(1, amount="200")]
    )
    invoice.refresh_from_db()
    assert (invoice.open_amount, note.open_amount) == (Decimal("80.09"), Decimal(0))
    assert receivables_by_customer(customer_id=customer.pk) == {(customer.pk, "EUR"): Decimal("80.09")}


def test_a_credit_note_is_not_credited_again(clerk, invoice):
    note = issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk)
    with pytest.raises(WrongStatus, match="is a credit note"):
        issue_credit_note(invoice_id=note.pk, reason="r", actor=clerk)


def test_a_debit_note_charges_more_and_is_issued_in_its_own_series(clerk, invoice):
    draft = create_debit_note(
        invoice_id=invoice.pk, reason="courier fee", actor=clerk,
        lines=[LineData(quantity="1", unit_price="15", tax_code="VAT-STD", description="Courier")],
    )  # fmt: skip
    note = issue_invoice(invoice_id=draft.pk, actor=clerk, issued_on=ON)
    assert (note.number, note.total, note.original_id) == ("DN-2026-000001", Decimal("17.85"), invoice.pk)
    assert note.open_amount == Decimal("17.85")


def test_rebill_credits_in_full_and_starts_a_linked_draft(clerk, invoice):
    note, draft = rebill_invoice(invoice_id=invoice.pk, reason="wrong PO", actor=clerk)
    assert note.total == Decimal("437.09") and note.reason == "Re-bill: wrong PO"
    assert (draft.rebill_of_id, draft.status, draft.total) == (
        invoice.pk,
        InvoiceStatus.DRAFT,
        Decimal("437.09"),
    )
    assert draft.lines.count() == 2
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CREDITED


def test_a_draft_is_neither_voided_nor_credited(clerk, customer):
    draft = draft_for(customer, clerk)
    with pytest.raises(WrongStatus, match="not issued"):
        void_invoice(invoice_id=draft.pk, reason="r", actor=clerk)
    with pytest.raises(WrongStatus, match="not issued"):
        issue_credit_note(invoice_id=draft.pk, reason="r", actor=clerk)


def test_credits_by_amount_and_by_quantity_mix_on_one_line(clerk, invoice):
    issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(1, amount="10")])
    note = issue_credit_note(
        invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(1, quantity="1")]
    )
    assert note.lines.get().net == Decimal("150.00")  # one of the two hours, pro rata of the invoice line
    with pytest.raises(OverCredit, match=r"more than the 0\.9333 still creditable"):
        issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(1, quantity="1")])


def test_an_approved_total_that_would_change_at_issue_is_refused(clerk, supervisor, customer):
    from billops.catalog.models import TaxCode, TaxRate
    from billops.invoicing.services.workflow import approve_invoice, submit_invoice

    customer.invoice_approval_required = True
    customer.save()
    TaxRate.objects.filter(tax_code__code="VAT-STD", country="DE").update(valid_to=date(2026, 6, 30))
    TaxRate.objects.create(
        tax_code=TaxCode.objects.get(code="VAT-STD"),
        country="DE",
        rate=Decimal(16),
        valid_from=date(2026, 7, 1),
    )
    draft = draft_for(customer, clerk, issued_on=ON)
    submit_invoice(invoice_id=draft.pk, actor=clerk)
    approve_invoice(invoice_id=draft.pk, actor=supervisor)
    before = invoicing_state()
    with pytest.raises(WrongStatus, match=r"from the approved 357\.00 to 348\.00 EUR"):
        issue_invoice(invoice_id=draft.pk, actor=clerk, issued_on=date(2026, 7, 2))
    assert invoicing_state() == before
    assert issue_invoice(invoice_id=draft.pk, actor=clerk).total == Decimal("357.00")
