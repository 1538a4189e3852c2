"""`billops check` over invoices: a book with invoices, credit notes and voids passes; tampering with an
issued document, its frozen HTML, its series or its open amount is named by I2, I4 or I5."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from billops.cli.invariants import check_all
from billops.cli.main import main
from billops.invoicing.models import Invoice, NumberSeries
from billops.invoicing.services.corrections import CreditLine, issue_credit_note, void_invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice
from tests.conftest import tamper
from tests.invoicing.factories import draft_for

pytestmark = pytest.mark.django_db

ON = date(2026, 2, 10)


@pytest.fixture
def documents(clerk, customer) -> dict[str, Invoice]:
    """Three invoices: one credited in part, one voided, one untouched."""
    issued = [
        issue_invoice(
            invoice_id=draft_for(customer, clerk, LineData(quantity=str(n), product_code="CONSULT")).pk,
            actor=clerk,
            issued_on=ON,
        )
        for n in (1, 2, 3)
    ]
    note = issue_credit_note(
        invoice_id=issued[0].pk, reason="one hour too many", actor=clerk, lines=[CreditLine(1, amount="50")]
    )
    void_invoice(invoice_id=issued[1].pk, reason="sent to the wrong customer", actor=clerk, voided_on=ON)
    return {"credited": issued[0], "void": issued[1], "open": issued[2], "note": note}


def failing(report: dict[str, Any]) -> dict[str, list[str]]:
    return {name: result["problems"] for name, result in report["invariants"].items() if not result["ok"]}


def test_invoices_credit_notes_and_voids_pass_every_invariant(documents, capsys) -> None:
    assert main(["check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert failing(report) == {}
    counts = report["counts"]
    assert (counts["invoices_issued"], counts["credit_notes"], counts["documents_void"]) == (3, 1, 1)
    assert report["invariants"]["I4"]["series"] == 2
    # 178.50 open on the first (178.50 - 59.50 credited), 535.50 on the third
    assert report["invariants"]["I2"]["open_items"] == {"EUR": "654.50"}


def test_a_changed_issued_total_is_named(documents) -> None:
    invoice = documents["open"]
    tamper("UPDATE invoicing_invoice SET total = total + 1 WHERE id = %s", [invoice.pk])
    assert failing(check_all())["I4"] == [
        f"issued document {invoice.number} was changed after issue (its content digest no longer matches)"
    ]


def test_a_changed_line_is_named(documents) -> None:
    invoice = documents["open"]
    tamper("UPDATE invoicing_invoiceline SET description = 'other' WHERE invoice_id = %s", [invoice.pk])
    assert failing(check_all())["I4"] == [
        f"issued document {invoice.number} was changed after issue (its content digest no longer matches)"
    ]


def test_changed_frozen_content_is_named(documents) -> None:
    invoice = documents["open"]
    moved = "UPDATE invoicing_issueddocument SET content = REPLACE(content, 'Berlin', 'Bonn')"
    moved += " WHERE invoice_id = %s"
    tamper(moved, [invoice.pk])
    assert failing(check_all())["I4"] == [
        f"issued document {invoice.number} was changed after issue (its frozen content no longer matches)"
    ]


def test_a_skipped_number_is_named(documents) -> None:
    series = NumberSeries.objects.get(document_type="invoice")
    tamper("UPDATE invoicing_numberseries SET next_number = next_number + 1 WHERE id = %s", [series.pk])
    assert failing(check_all())["I4"] == ["series INV-2026: missing INV-2026-000004"]


def test_a_duplicated_number_is_refused_by_the_database_itself(documents) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        tamper("UPDATE invoicing_invoice SET sequence_no = 1 WHERE id = %s", [documents["open"].pk])


def test_a_number_that_is_not_its_series_number_is_named(documents) -> None:
    invoice = documents["open"]
    tamper("UPDATE invoicing_invoice SET number = 'INV-2026-000009' WHERE id = %s", [invoice.pk])
    problems = failing(check_all())["I4"]
    assert "document INV-2026-000009 does not carry its series number" in problems


def test_a_changed_open_amount_breaks_the_subledger(documents, customer) -> None:
    invoice = documents["open"]
    tamper("UPDATE invoicing_invoice SET open_amount = 0 WHERE id = %s", [invoice.pk])
    problems = failing(check_all())["I2"]
    assert problems[0] == "EUR: open items 119.00 ≠ receivables account 1200 654.50"
    assert f"customer {customer.pk} EUR: open items 119.00 ≠ receivables lines 654.50" in problems


def test_an_invoice_pointing_at_another_entry_is_named(documents) -> None:
    invoice, other = documents["open"], documents["credited"]
    missing = other.journal_entry_id + 100000
    tamper("UPDATE invoicing_invoice SET journal_entry_id = %s WHERE id = %s", [missing, invoice.pk])
    problems = failing(check_all())["I5"]
    assert f"document {invoice.number} names entry {missing} for its issue, which does not exist" in problems
