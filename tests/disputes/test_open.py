"""Opening a dispute: on lines (each line's amount, or all of it that is left) or on an amount of the whole
invoice; never more than the invoice has open less what other cases dispute; only on issued invoices, by
the roles that may; the SLA due date by reason. A refused case changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billops.core.errors import InvalidAmount, InvalidInput, NotFound, PermissionDenied
from billops.core.money import Money
from billops.disputes.errors import OverDisputed, WrongStatus
from billops.disputes.models import DisputeCase, DisputeNote, Status
from billops.disputes.services import LineClaim, open_dispute, sla_days
from billops.invoicing.services.corrections import issue_credit_note, void_invoice
from tests.disputes.books import TODAY, events, issue, unchanged
from tests.invoicing.factories import draft_for


def test_a_case_on_lines_disputes_each_line_amount_tax_included(clerk, invoice):
    case = open_dispute(
        invoice_id=invoice.pk, reason="price", actor=clerk, note="Customer says the rate is 125.00",
        lines=[LineClaim(line_no=1, amount="59.50"), LineClaim(line_no=2)],
    )  # fmt: skip
    case.refresh_from_db()
    assert (case.status, case.amount, case.currency, case.reason) == (
        Status.OPEN, Decimal("139.59"), "EUR", "price"
    )  # fmt: skip
    assert (case.customer_id, case.invoice_id, case.opened_by, case.owner) == (
        invoice.customer_id, invoice.pk, clerk, None
    )  # fmt: skip
    # line 2 left out its amount: all of it, 74.85 + 5.24 VAT
    assert list(case.lines.values_list("line__line_no", "amount", "currency")) == [
        (1, Decimal("59.50"), "EUR"), (2, Decimal("80.09"), "EUR"),
    ]  # fmt: skip
    assert (case.opened_on, case.sla_due_on, case.resolved_at) == (TODAY, TODAY + timedelta(days=30), None)
    assert DisputeNote.objects.get(case=case).text == "Customer says the rate is 125.00"
    [event] = events("dispute.opened")
    assert (event.target_id, event.actor_label) == (str(case.pk), "clerk")
    assert event.after["lines"] == [{"line_no": 1, "amount": "59.50"}, {"line_no": 2, "amount": "80.09"}]
    assert (event.after["amount"], event.after["invoice"], event.after["status"]) == (
        "139.59", "INV-2026-000001", "open"
    )  # fmt: skip


def test_a_case_on_an_amount_or_on_all_that_is_open(clerk, invoice):
    first = open_dispute(invoice_id=invoice.pk, reason="quality", amount="100.00", actor=clerk)
    assert (first.amount, first.lines.count()) == (Decimal("100.00"), 0)
    rest = open_dispute(invoice_id=invoice.pk, reason="not_received", actor=clerk)
    assert rest.amount == Decimal("337.09")  # what is open, less the first case
    with unchanged(), pytest.raises(OverDisputed) as refused:
        open_dispute(invoice_id=invoice.pk, reason="other", actor=clerk)
    assert refused.value.field == "amount"
    assert "437.09 EUR open, of which 437.09 EUR is disputed in other cases" in refused.value.message


def test_an_amount_above_the_open_amount_is_refused(clerk, invoice):
    with unchanged(), pytest.raises(OverDisputed) as refused:
        open_dispute(invoice_id=invoice.pk, reason="price", amount="437.10", actor=clerk)
    assert refused.value.field == "amount"
    assert refused.value.message == (
        "INV-2026-000001 has 437.09 EUR open: 437.09 EUR is left to dispute, not 437.10 EUR"
    )
    for amount, error in (("0", InvalidAmount), ("-5", InvalidAmount), ("1.001", InvalidAmount)):
        with unchanged(), pytest.raises(error) as refused:
            open_dispute(invoice_id=invoice.pk, reason="price", amount=amount, actor=clerk)
        assert refused.value.field == "amount"


def test_two_cases_together_never_dispute_more_than_is_open(clerk, collector, invoice):
    open_dispute(invoice_id=invoice.pk, reason="price", amount="400.00", actor=clerk)
    with unchanged(), pytest.raises(OverDisputed) as refused:
        open_dispute(invoice_id=invoice.pk, reason="quantity", amount="37.10", actor=collector)
    assert refused.value.message == (
        "INV-2026-000001 has 437.09 EUR open, of which 400.00 EUR is disputed in other cases: 37.09 EUR "
        "is left to dispute, not 37.10 EUR"
    )
    assert open_dispute(invoice_id=invoice.pk, reason="quantity", amount="37.09", actor=collector).amount == (
        Decimal("37.09")
    )


def test_a_line_is_never_disputed_beyond_what_it_has_left(clerk, invoice):
    open_dispute(
        invoice_id=invoice.pk, reason="price", lines=[LineClaim(line_no=2, amount="80.00")], actor=clerk
    )
    with unchanged(), pytest.raises(OverDisputed) as refused:
        open_dispute(
            invoice_id=invoice.pk, reason="price", actor=clerk,
            lines=[LineClaim(line_no=1, amount="1.00"), LineClaim(line_no=2, amount="0.10")],
        )  # fmt: skip
    assert refused.value.field == "lines[2].amount"
    assert refused.value.message == (
        "line 2: 0.10 EUR is more than the 0.09 EUR of the line (tax included) not yet credited or disputed"
    )


def test_lines_of_another_invoice_or_unknown_lines_are_refused(clerk, invoice, other_invoice):
    foreign = other_invoice.lines.get(line_no=3)
    cases = [
        ([LineClaim(line_id=foreign.pk)], InvalidInput, "lines[1].line_id",
         f"invoice line {foreign.pk} is a line of INV-2026-000002, not of INV-2026-000001"),
        ([LineClaim(line_no=1), LineClaim(line_no=3)], NotFound, "lines[2].line_no",
         "INV-2026-000001 has no line 3"),
        ([LineClaim(line_no=1), LineClaim(line_no=1)], InvalidInput, "lines[2]", "line 1 is named twice"),
        ([LineClaim()], InvalidInput, "lines[1]",
         "name the line by its number (line_no) or its id (line_id)"),
        ([LineClaim(line_no=1, amount="0")], InvalidAmount, "lines[1].amount",
         "line 1: a disputed amount is more than zero, not 0"),
    ]  # fmt: skip
    for lines, error, field, message in cases:
        with unchanged(), pytest.raises(error) as refused:
            open_dispute(invoice_id=invoice.pk, reason="price", lines=lines, actor=clerk)
        assert (refused.value.field, refused.value.message) == (field, message)
    mine = invoice.lines.get(line_no=2)
    case = open_dispute(
        invoice_id=invoice.pk, reason="price", lines=[LineClaim(line_id=mine.pk)], actor=clerk
    )
    assert case.amount == Decimal("80.09")


def test_the_amount_given_with_lines_must_be_their_sum(clerk, invoice):
    with unchanged(), pytest.raises(InvalidAmount) as refused:
        open_dispute(
            invoice_id=invoice.pk, reason="price", amount="60.00", actor=clerk,
            lines=[LineClaim(line_no=1, amount="59.50")],
        )  # fmt: skip
    assert (refused.value.field, refused.value.message) == (
        "amount",
        "the disputed lines add up to 59.50 EUR, not 60.00 EUR: leave the amount out or make it their sum",
    )  # fmt: skip
    given = open_dispute(
        invoice_id=invoice.pk, reason="price", amount=Money(Decimal("59.50"), "EUR"), actor=clerk,
        lines=[LineClaim(line_no=1, amount="59.50")],
    )  # fmt: skip
    assert given.amount == Decimal("59.50")


def test_the_auditor_may_not_open_a_dispute(auditor, invoice):
    with unchanged(), pytest.raises(PermissionDenied, match=r"auditor role may not do disputes\.open"):
        open_dispute(invoice_id=invoice.pk, reason="price", actor=auditor)


def test_only_an_issued_invoice_that_is_not_void_nor_a_credit_note_is_disputed(clerk, customer, invoice):
    draft = draft_for(customer, clerk)
    note = issue_credit_note(invoice_id=invoice.pk, reason="r", actor=clerk)
    voided = void_invoice(invoice_id=issue(customer, clerk).pk, reason="duplicate", actor=clerk)
    for target, message in (
        (draft, f"draft {draft.pk} is not issued; only an issued invoice is disputed"),
        (note, "CN-2026-000001 is a credit note; a customer disputes the invoice it corrects"),
        (voided, "INV-2026-000002 is void: nothing of it is open any more"),
    ):
        with unchanged(), pytest.raises(WrongStatus) as refused:
            open_dispute(invoice_id=target.pk, reason="price", actor=clerk)
        assert (refused.value.field, refused.value.message) == ("invoice_id", message)
    with unchanged(), pytest.raises(OverDisputed, match=r"has 0\.00 EUR open"):
        open_dispute(invoice_id=invoice.pk, reason="price", actor=clerk)  # credited in full: nothing open
    with unchanged(), pytest.raises(NotFound, match=r"there is no invoice 999999"):
        open_dispute(invoice_id=999999, reason="price", actor=clerk)


def test_bad_reason_source_owner_and_sla_are_refused(clerk, auditor, invoice):
    cases = [
        ({"reason": "expensive"}, "reason"),
        ({"reason": "price", "source": "fax"}, "source"),
        ({"reason": "price", "owner_id": auditor.pk}, "owner_id"),
        ({"reason": "price", "owner_id": 999999}, "owner_id"),
        ({"reason": "price", "sla_due_on": TODAY - timedelta(days=1)}, "sla_due_on"),
        ({"reason": "price", "sla_due_on": TODAY + timedelta(days=400)}, "sla_due_on"),
        ({"reason": "price", "source": "remittance_deduction"}, "source_reference"),
    ]
    for values, field in cases:
        with unchanged(), pytest.raises((InvalidInput, NotFound)) as refused:
            open_dispute(invoice_id=invoice.pk, actor=clerk, **values)
        assert refused.value.field == field, values


def test_the_sla_due_date_follows_the_reason_setting_unless_given(settings, clerk, collector, invoice):
    settings.BILLOPS_DISPUTE_SLA_DAYS = {"price": 10, "default": 45}
    assert (sla_days("price"), sla_days("quality")) == (10, 45)
    price = open_dispute(invoice_id=invoice.pk, reason="price", amount="10", actor=clerk)
    quality = open_dispute(invoice_id=invoice.pk, reason="quality", amount="10", actor=clerk)
    assert (price.sla_due_on, quality.sla_due_on) == (date(2026, 3, 20), date(2026, 4, 24))
    settings.BILLOPS_DISPUTE_SLA_DAYS = "20, tax=5"
    assert (sla_days("tax"), sla_days("other")) == (5, 20)
    given = open_dispute(
        invoice_id=invoice.pk, reason="tax", amount="10", actor=clerk, sla_due_on=date(2026, 3, 12),
        owner_id=collector.pk,
    )  # fmt: skip
    assert (given.sla_due_on, given.owner) == (date(2026, 3, 12), collector)
    del settings.BILLOPS_DISPUTE_SLA_DAYS
    assert sla_days("price") == 30


def test_the_database_refuses_a_final_case_without_its_decision_time(clerk, invoice):
    case = open_dispute(invoice_id=invoice.pk, reason="price", amount="10", actor=clerk)
    for changes in ({"status": "rejected", "root_cause": "other"}, {"amount": Decimal(0)}):
        with pytest.raises(IntegrityError), transaction.atomic():
            DisputeCase.objects.filter(pk=case.pk).update(**changes)
