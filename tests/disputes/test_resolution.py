"""Resolving a dispute in the customer's favour: by a credit note for exactly the disputed amount (per
disputed line, or spread over the invoice's lines), issued, posted and settling the invoice; or by a
re-bill (credited in full, a linked new draft). One transaction: a closed period, a void invoice or an
invoice credited since leaves the case and the invoice as they were."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.disputes.crediting import case_credit_plan
from billops.disputes.errors import WrongStatus
from billops.disputes.models import Status
from billops.disputes.services import LineClaim, open_dispute, resolve_by_credit, resolve_by_rebill
from billops.invoicing.errors import OverCredit
from billops.invoicing.models import DocumentType, InvoiceStatus
from billops.invoicing.services.corrections import CreditLine, issue_credit_note, void_invoice
from billops.invoicing.services.drafts import delete_draft
from billops.invoicing.services.lines import LineData
from billops.ledger.errors import PeriodClosed
from billops.ledger.services import close_period
from tests.disputes.books import TODAY, all_ok, entry_lines, events, issue, one_line, unchanged


def test_a_credit_for_the_disputed_lines_settles_exactly_that(clerk, collector, invoice):
    case = open_dispute(
        invoice_id=invoice.pk, reason="price", actor=clerk,
        lines=[LineClaim(line_no=1, amount="59.50"), LineClaim(line_no=2)],
    )  # fmt: skip
    # a collector resolves it: the disputes permission covers the credit note it issues
    resolved = resolve_by_credit(
        case_id=case.pk, root_cause="pricing_error", note="rate agreed", actor=collector
    )
    resolved.refresh_from_db()
    note = resolved.credit_note
    assert (resolved.status, resolved.root_cause, resolved.resolved_by) == (
        Status.RESOLVED_CREDIT, "pricing_error", collector
    )  # fmt: skip
    assert resolved.resolved_at is not None and resolved.rebill_draft is None
    assert (note.number, note.document_type, note.original_id, note.total) == (
        "CN-2026-000001", DocumentType.CREDIT_NOTE, invoice.pk, Decimal("139.59")
    )  # fmt: skip
    assert note.reason == f"Dispute {case.pk} (price): rate agreed"
    # 59.50 of line 1 is 50.00 + 9.50 VAT; all of line 2 is 74.85 + 5.24 VAT
    assert list(note.lines.values_list("credits_line__line_no", "net", "tax_amount")) == [
        (1, Decimal("50.00"), Decimal("9.50")), (2, Decimal("74.85"), Decimal("5.24")),
    ]  # fmt: skip
    assert entry_lines(note.journal_entry_id) == [
        ("1200", Decimal(0), Decimal("139.59")),
        ("2200", Decimal("14.74"), Decimal(0)),
        ("4000", Decimal("124.85"), Decimal(0)),
    ]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount, invoice.credited_amount) == (
        InvoiceStatus.PARTLY_PAID, Decimal("297.50"), Decimal("139.59")
    )  # fmt: skip
    [issued] = events("credit_note.issued")
    assert (issued.target_id, issued.journal_entry_id) == (str(note.pk), note.journal_entry_id)
    [event] = events("dispute.resolved_by_credit")
    assert (event.before["status"], event.after["status"], event.journal_entry_id) == (
        "open", "resolved_credit", None  # the entry pairs with the credit note's event
    )  # fmt: skip
    assert (event.after["credit_note"], event.after["credited"], event.after["invoice_open_amount"]) == (
        "CN-2026-000001", "139.59", "297.50"
    )  # fmt: skip
    assert event.after["credit_note_entry"] == note.journal_entry_id
    all_ok()


def test_an_amount_on_the_whole_invoice_is_spread_over_its_lines(clerk, invoice):
    case = open_dispute(invoice_id=invoice.pk, reason="quality", amount="100.00", actor=clerk)
    note = resolve_by_credit(
        case_id=case.pk, root_cause="product_quality", note="goodwill", actor=clerk
    ).credit_note
    # in proportion to 357.00 and 80.09: 81.68 (68.64 + 13.04 VAT) and 18.32 (17.12 + 1.20 VAT)
    assert list(note.lines.values_list("credits_line__line_no", "net", "tax_amount")) == [
        (1, Decimal("68.64"), Decimal("13.04")), (2, Decimal("17.12"), Decimal("1.20")),
    ]  # fmt: skip
    assert note.total == Decimal("100.00")
    invoice.refresh_from_db()
    assert invoice.open_amount == Decimal("337.09")
    all_ok()


def test_all_that_is_open_is_credited_line_by_line_in_full(clerk, invoice):
    case = open_dispute(invoice_id=invoice.pk, reason="not_received", actor=clerk)
    note = resolve_by_credit(
        case_id=case.pk, root_cause="delivery_failure", note="lost", actor=clerk
    ).credit_note
    assert note.total == Decimal("437.09")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.CREDITED, Decimal(0))


def test_tax_rounding_moves_a_cent_to_another_line_or_leaves_it_open(clerk, customer):
    # at 19 %, nets 84.18 and 84.19 give 100.17 and 100.19: 100.18 is no total of one line
    single = one_line(customer, clerk, "100.00")
    case = open_dispute(invoice_id=single.pk, reason="price", amount="100.18", actor=clerk)
    plan = case_credit_plan(case)
    assert (plan.total, plan.short_by) == (Decimal("100.17"), Decimal("0.01"))
    note = resolve_by_credit(case_id=case.pk, root_cause="pricing_error", note="n", actor=clerk).credit_note
    single.refresh_from_db()
    assert (note.total, single.open_amount) == (Decimal("100.17"), Decimal("18.83"))
    # with a second line the cent goes there, and the note is exact
    two = issue(
        customer, clerk,
        LineData(quantity="1", description="Service", unit_price="100.00", tax_code="VAT-STD"),
        LineData(quantity="1", description="Travel", unit_price="50.00", tax_code="VAT-STD"),
    )  # fmt: skip
    exact = open_dispute(
        invoice_id=two.pk, reason="price", actor=clerk,
        lines=[LineClaim(line_no=1, amount="100.18"), LineClaim(line_no=2, amount="10.00")],
    )  # fmt: skip
    assert case_credit_plan(exact).short_by == 0
    note = resolve_by_credit(case_id=exact.pk, root_cause="pricing_error", note="n", actor=clerk).credit_note
    assert note.total == Decimal("110.18")
    all_ok()


def test_a_rebill_credits_in_full_and_starts_a_linked_draft(clerk, invoice):
    case = open_dispute(invoice_id=invoice.pk, reason="quantity", amount="80.09", actor=clerk)
    resolved = resolve_by_rebill(
        case_id=case.pk, root_cause="wrong_quantity", note="2 handbooks", actor=clerk
    )
    note, draft = resolved.credit_note, resolved.rebill_draft
    assert resolved.status == Status.RESOLVED_REBILL
    assert (note.total, note.reason) == (
        Decimal("437.09"),
        f"Re-bill: Dispute {case.pk} (quantity): 2 handbooks",
    )
    assert entry_lines(note.journal_entry_id) == [
        ("1200", Decimal(0), Decimal("437.09")),
        ("2200", Decimal("62.24"), Decimal(0)),
        ("4000", Decimal("374.85"), Decimal(0)),
    ]
    assert (draft.status, draft.rebill_of_id, draft.total, draft.lines.count()) == (
        InvoiceStatus.DRAFT, invoice.pk, Decimal("437.09"), 2
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.CREDITED, Decimal(0))
    assert [e.action for e in events("invoice.rebilled")] == ["invoice.rebilled"]
    [event] = events("dispute.resolved_by_rebill")
    assert (event.after["rebill_draft"], event.after["credited"]) == (draft.pk, "437.09")
    all_ok()


def test_a_closed_period_leaves_the_case_and_the_invoice_unchanged(clerk, supervisor, customer):
    february = issue(customer, clerk, issued_on=date(2026, 2, 10))
    close_period(start_on=date(2026, 2, 1), actor=supervisor)
    case = open_dispute(invoice_id=february.pk, reason="price", amount="59.50", actor=clerk)
    with unchanged(), pytest.raises(PeriodClosed) as refused:
        resolve_by_credit(
            case_id=case.pk, root_cause="pricing_error", note="n", actor=clerk, issued_on=date(2026, 2, 20)
        )
    assert refused.value.http_status == 409
    case.refresh_from_db()
    assert (case.status, case.resolved_at, case.credit_note) == (Status.OPEN, None, None)
    # dated in the open March, it goes through
    note = resolve_by_credit(case_id=case.pk, root_cause="pricing_error", note="n", actor=clerk).credit_note
    assert (note.issued_on, note.total) == (TODAY, Decimal("59.50"))


def test_an_invoice_credited_since_the_case_was_opened_is_refused(clerk, invoice):
    whole = open_dispute(invoice_id=invoice.pk, reason="price", actor=clerk)
    issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(1, amount="100")])
    with unchanged(), pytest.raises(OverCredit) as refused:
        resolve_by_credit(case_id=whole.pk, root_cause="pricing_error", note="n", actor=clerk)
    assert (refused.value.field, refused.value.message) == (
        "amount", "INV-2026-000001 has 318.09 EUR left to credit, less than the 437.09 EUR disputed: it was "
        "credited since",
    )  # fmt: skip


def test_a_line_credited_since_is_refused_at_its_place(clerk, invoice):
    case = open_dispute(
        invoice_id=invoice.pk, reason="price", actor=clerk,
        lines=[LineClaim(line_no=1, amount="10.00"), LineClaim(line_no=2)],
    )  # fmt: skip
    issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk, lines=[CreditLine(2, quantity="1")])
    with unchanged(), pytest.raises(OverCredit) as refused:
        resolve_by_credit(case_id=case.pk, root_cause="pricing_error", note="n", actor=clerk)
    assert refused.value.field == "lines[2].amount"


def test_a_void_invoice_is_not_credited(clerk, customer):
    invoice = one_line(customer, clerk, "10.00")
    case = open_dispute(invoice_id=invoice.pk, reason="duplicate", actor=clerk)
    void_invoice(invoice_id=invoice.pk, reason="billed twice", actor=clerk)  # invoicing knows no disputes
    with unchanged(), pytest.raises(WrongStatus) as refused:
        resolve_by_credit(case_id=case.pk, root_cause="duplicate_billing", note="n", actor=clerk)
    assert (refused.value.field, refused.value.message) == (
        "invoice_id", "INV-2026-000001 is void: nothing of it is open any more"
    )  # fmt: skip


def test_deleting_the_rebill_draft_leaves_the_case_with_its_credit_note(clerk, invoice):
    case = open_dispute(invoice_id=invoice.pk, reason="quantity", actor=clerk)
    resolved = resolve_by_rebill(case_id=case.pk, root_cause="wrong_quantity", note="n", actor=clerk)
    delete_draft(invoice_id=resolved.rebill_draft_id, actor=clerk)
    resolved.refresh_from_db()
    assert (resolved.status, resolved.rebill_draft, resolved.credit_note.number) == (
        Status.RESOLVED_REBILL, None, "CN-2026-000001"
    )  # fmt: skip
    [event] = events("dispute.rebill_draft_deleted")
    assert (event.target_id, event.after) == (str(case.pk), {"rebill_draft": None})
    all_ok()
