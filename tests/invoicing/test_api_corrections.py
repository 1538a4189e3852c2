"""Correcting issued documents over the API: void, credit notes, debit notes and re-bills, with their
numbers, settlement, journal entries and audit events; and every refusal leaves the database as it was."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.customers.models import Customer
from billops.invoicing.models import CreditAllocation, Invoice, InvoiceStatus
from billops.invoicing.selectors import invoice_history
from billops.ledger.models import JournalEntry
from tests.invoicing.test_api import BOOK, CONSULT, INVOICES, MARCH, draft, issued, nothing_changes, refusal

pytestmark = pytest.mark.django_db


def entry_lines(api: Any, invoice_id: int) -> list[tuple[str, str, str]]:
    entry = api.get(f"{INVOICES}/{invoice_id}/journal-entry").json()
    return [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]]


@pytest.fixture
def invoice(api_as, clerk: User, customer: Customer) -> dict[str, Any]:
    """INV-2026-000001 of 5 March 2026: 2 hours at 150.00 (19 % VAT) and 3 books at 24.95 (7 %)."""
    return issued(api_as(clerk), customer, CONSULT, BOOK)


# --- void ----------------------------------------------------------------------------------------


def test_void_reverses_the_entry_and_keeps_the_number(api_as, clerk: User, invoice: dict[str, Any]) -> None:
    api = api_as(clerk)
    path = f"{INVOICES}/{invoice['id']}"
    response = api.post(f"{path}/void", {"reason": "sent to the wrong customer", "voided_on": "2026-03-06"})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["number"], data["open_amount"], data["void_reason"], data["voided_by"]) == (
        "void",
        "INV-2026-000001",
        "0.00",
        "sent to the wrong customer",
        "clerk",
    )
    reversal = JournalEntry.objects.get(pk=data["links"]["void_entry_id"])
    assert (reversal.reversal_of_id, reversal.posted_on.isoformat()) == (
        data["links"]["journal_entry_id"],
        "2026-03-06",
    )
    debits = {(line.account.code, line.debit, line.credit) for line in reversal.lines.all()}
    assert debits == {
        ("1200", Decimal(0), Decimal("437.09")),
        ("4000", Decimal("374.85"), Decimal(0)),
        ("2200", Decimal("62.24"), Decimal(0)),
    }
    event = AuditEvent.objects.get(action="invoice.voided")
    assert (event.actor, event.journal_entry_id, event.after["reason"]) == (
        clerk,
        reversal.pk,
        data["void_reason"],
    )
    with nothing_changes():
        again = api.post(f"{path}/void", {"reason": "again"})
        credited = api.post(f"{path}/credit-notes", {"reason": "too late"})
    assert refusal(again) == (409, "wrong_status", "status")
    assert refusal(credited) == (409, "wrong_status", "status")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"reason": " "}, 400, "invalid", "reason"),
        ({}, 422, "invalid", "reason"),
        ({"reason": "x" * 301}, 400, "invalid", "reason"),
        ({"reason": "typo", "voided_on": "2026-03-04"}, 400, "invalid", "voided_on"),
        ({"reason": "typo", "voided_on": "20260306"}, 422, "invalid", "voided_on"),
    ],
)
def test_a_bad_void_is_refused(
    api_as, clerk: User, invoice: dict[str, Any], body, status, code, field
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = api.post(f"{INVOICES}/{invoice['id']}/void", body)
    assert refusal(response) == (status, code, field)


def test_a_draft_is_deleted_not_voided_or_credited(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    path = f"{INVOICES}/{created['id']}"
    with nothing_changes():
        voided = api.post(f"{path}/void", {"reason": "x"})
        credited = api.post(f"{path}/credit-notes", {"reason": "x"})
        debited = api.post(f"{path}/debit-notes", {"reason": "x", "lines": [CONSULT]})
        rebilled = api.post(f"{path}/rebill", {"reason": "x"})
    for response in (voided, credited, debited, rebilled):
        assert refusal(response) == (409, "wrong_status", "status")
    assert "a draft is changed or deleted instead" in voided.json()["message"]


# --- credit notes --------------------------------------------------------------------------------


def test_a_full_credit_note_settles_the_invoice(api_as, clerk: User, invoice: dict[str, Any]) -> None:
    api = api_as(clerk)
    response = api.post(f"{INVOICES}/{invoice['id']}/credit-notes", {"reason": "cancelled order"})
    assert response.status_code == 201, response.json()
    note = response.json()
    assert {k: note[k] for k in ("document_type", "status", "number", "total", "tax_total", "reason")} == {
        "document_type": "credit_note",
        "status": "issued",
        "number": "CN-2026-000001",
        "total": "437.09",
        "tax_total": "62.24",
        "reason": "cancelled order",
    }
    assert note["open_amount"] == "0.00"  # used up on the invoice it credits
    assert [
        (line["line_no"], line["credits_line_no"], line["net"], line["tax_amount"]) for line in note["lines"]
    ] == [
        (1, 1, "300.00", "57.00"),
        (2, 2, "74.85", "5.24"),
    ]
    assert note["links"]["original_id"] == invoice["id"]
    assert entry_lines(api, note["id"]) == [
        ("1200", "0.00", "437.09"),
        ("4000", "374.85", "0.00"),
        ("2200", "62.24", "0.00"),
    ]
    original = api.get(f"{INVOICES}/{invoice['id']}").json()
    assert (original["status"], original["open_amount"], original["credited_amount"]) == (
        "credited",
        "0.00",
        "437.09",
    )
    assert original["links"]["correction_ids"] == [note["id"]]
    allocation = CreditAllocation.objects.get()
    assert (allocation.credit_note_id, allocation.invoice_id, allocation.amount) == (
        note["id"],
        invoice["id"],
        Decimal("437.09"),
    )
    assert (
        AuditEvent.objects.get(action="credit_note.issued").journal_entry_id
        == note["links"]["journal_entry_id"]
    )
    with nothing_changes():
        again = api.post(f"{INVOICES}/{invoice['id']}/credit-notes", {"reason": "again"})
        of_the_note = api.post(f"{INVOICES}/{note['id']}/credit-notes", {"reason": "x"})
    assert refusal(again) == (400, "over_credit", "lines")
    assert refusal(of_the_note) == (409, "wrong_status", "invoice_id")


def test_a_partial_credit_by_quantity_and_by_amount(api_as, clerk: User, invoice: dict[str, Any]) -> None:
    api = api_as(clerk)
    body = {
        "reason": "one hour less, one book damaged",
        "lines": [{"line_no": 1, "quantity": "1"}, {"line_no": 2, "amount": "20.00"}],
        "issued_on": "2026-03-10",
    }
    response = api.post(f"{INVOICES}/{invoice['id']}/credit-notes", body)
    assert response.status_code == 201, response.json()
    note = response.json()
    assert [
        (line["quantity"], line["unit_price"], line["net"], line["tax_amount"]) for line in note["lines"]
    ] == [
        ("1", "150.00", "150.00", "28.50"),
        ("1", "20.00", "20.00", "1.40"),  # 5.24 x 20.00 / 74.85 = 1.40
    ]
    assert (note["issued_on"], note["subtotal"], note["tax_total"], note["total"]) == (
        "2026-03-10",
        "170.00",
        "29.90",
        "199.90",
    )
    original = api.get(f"{INVOICES}/{invoice['id']}").json()
    assert (original["open_amount"], original["credited_amount"]) == ("237.19", "199.90")
    assert (
        original["status"] == InvoiceStatus.PARTLY_PAID
    )  # the settlement status does not tell credits apart


def test_void_after_a_partial_credit_is_409(api_as, clerk: User, invoice: dict[str, Any]) -> None:
    api = api_as(clerk)
    body = {"reason": "one hour less", "lines": [{"line_no": 1, "quantity": "1"}]}
    assert api.post(f"{INVOICES}/{invoice['id']}/credit-notes", body).status_code == 201
    with nothing_changes():
        response = api.post(f"{INVOICES}/{invoice['id']}/void", {"reason": "wrong customer"})
    assert refusal(response) == (409, "wrong_status", "status")
    assert response.json()["message"] == (
        "INV-2026-000001 has been paid or credited in part; credit what is still open instead"
    )


@pytest.mark.parametrize(
    ("lines", "status", "code", "field", "says"),
    [
        ([{"line_no": 1, "quantity": "3"}], 400, "over_credit", "lines.0.quantity", "more than the 2"),
        ([{"line_no": 2, "amount": "74.86"}], 400, "over_credit", "lines.0.amount", "more than the 74.85"),
        ([{"line_no": 1, "quantity": "1", "amount": "1.00"}], 400, "invalid", "lines.0", "not both"),
        ([{"line_no": 1}, {"line_no": 1}], 400, "invalid", "lines.1.line_no", "named twice"),
        ([{"line_no": 3}], 404, "not_found", "lines.0.line_no", "no line 3"),
        ([{"line_no": 1, "quantity": "-1"}], 400, "invalid_amount", "lines.0.quantity", "more than zero"),
        (
            [{"line_no": 1, "quantity": "0.00001"}],
            400,
            "invalid_amount",
            "lines.0.quantity",
            "4 decimal places",
        ),
        ([{"line_no": 1, "amount": "1.001"}], 400, "invalid_amount", "lines.0.amount", "more decimal places"),
        ([{"line_no": 1, "amount": 1.5}], 422, "invalid", "lines.0.amount", "not a float"),
        ([{"line_no": 1, "amount": "1e3"}], 422, "invalid", "lines.0.amount", "not a number"),
        ([], 422, "invalid", "lines", "at least 1"),
        ([{"line_no": 0}], 422, "invalid", "lines.0.line_no", "greater than or equal to 1"),
    ],
)
def test_a_bad_credit_note_is_refused_and_nothing_is_written(
    api_as, clerk: User, invoice: dict[str, Any], lines, status, code, field, says
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = api.post(f"{INVOICES}/{invoice['id']}/credit-notes", {"reason": "x", "lines": lines})
    assert refusal(response) == (status, code, field)
    assert says in response.json()["message"]


def test_a_credit_note_over_what_is_left_after_an_earlier_one_is_over_credit(
    api_as, clerk: User, invoice: dict[str, Any]
) -> None:
    api = api_as(clerk)
    first = {"reason": "one hour less", "lines": [{"line_no": 1, "quantity": "1"}]}
    assert api.post(f"{INVOICES}/{invoice['id']}/credit-notes", first).status_code == 201
    with nothing_changes():
        response = api.post(
            f"{INVOICES}/{invoice['id']}/credit-notes",
            {"reason": "two hours less", "lines": [{"line_no": 1, "quantity": "2"}]},
        )
    assert refusal(response) == (400, "over_credit", "lines.0.quantity")
    rest = api.post(f"{INVOICES}/{invoice['id']}/credit-notes", {"reason": "the rest"})
    assert (rest.status_code, rest.json()["number"], rest.json()["total"]) == (
        201,
        "CN-2026-000002",
        "258.59",
    )
    assert api.get(f"{INVOICES}/{invoice['id']}").json()["status"] == "credited"


# found through the API: a credit by amount used to count as quantity 1 of the line
def test_a_credit_by_amount_leaves_the_quantity_creditable(
    api_as, clerk: User, invoice: dict[str, Any]
) -> None:
    api = api_as(clerk)
    by_amount = {"reason": "goodwill", "lines": [{"line_no": 1, "amount": "10.00"}]}
    assert api.post(f"{INVOICES}/{invoice['id']}/credit-notes", by_amount).status_code == 201
    by_quantity = {"reason": "one and a half hours less", "lines": [{"line_no": 1, "quantity": "1.5"}]}
    response = api.post(f"{INVOICES}/{invoice['id']}/credit-notes", by_quantity)
    assert response.status_code == 201, response.json()
    assert [(line["quantity"], line["net"], line["tax_amount"]) for line in response.json()["lines"]] == [
        ("1.5", "225.00", "42.75")
    ]


# --- debit notes and re-bills --------------------------------------------------------------------


def test_a_debit_note_starts_as_a_draft_and_is_issued_in_its_own_series(
    api_as, clerk: User, invoice: dict[str, Any]
) -> None:
    api = api_as(clerk)
    freight = {"description": "Freight", "quantity": "1", "unit_price": "25.00", "tax_code": "VAT-STD"}
    response = api.post(
        f"{INVOICES}/{invoice['id']}/debit-notes", {"reason": "freight not billed", "lines": [freight]}
    )
    assert response.status_code == 201, response.json()
    note = response.json()
    assert (note["document_type"], note["status"], note["number"], note["total"], note["reason"]) == (
        "debit_note",
        "draft",
        None,
        "29.75",
        "freight not billed",
    )
    assert note["links"]["original_id"] == invoice["id"]
    issued_note = api.post(f"{INVOICES}/{note['id']}/issue", {"issued_on": MARCH})
    assert (issued_note.status_code, issued_note.json()["number"]) == (200, "DN-2026-000001")
    assert entry_lines(api, note["id"]) == [
        ("1200", "29.75", "0.00"),
        ("4000", "0.00", "25.00"),
        ("2200", "0.00", "4.75"),
    ]
    assert api.get(f"{INVOICES}/{invoice['id']}").json()["links"]["correction_ids"] == [note["id"]]
    assert (
        AuditEvent.objects.filter(action__in=["debit_note.draft_created", "debit_note.issued"]).count() == 2
    )


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"reason": "x", "lines": [{**CONSULT, "quantity": "-1"}]},
            400,
            "invalid_amount",
            "lines.0.quantity",
        ),
        ({"reason": "x", "lines": [{**CONSULT, "quantity": 1.0}]}, 422, "invalid", "lines.0.quantity"),
        ({"reason": "x", "lines": [{**CONSULT, "tax_code": "NOPE"}]}, 404, "not_found", "lines.0.tax_code"),
        ({"reason": "x", "lines": []}, 422, "invalid", "lines"),
        ({"reason": "", "lines": [CONSULT]}, 400, "invalid", "reason"),
    ],
)
def test_a_bad_debit_note_is_refused(
    api_as, clerk: User, invoice: dict[str, Any], body, status, code, field
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = api.post(f"{INVOICES}/{invoice['id']}/debit-notes", body)
    assert refusal(response) == (status, code, field)


def test_rebill_credits_in_full_and_starts_a_linked_draft(
    api_as, clerk: User, invoice: dict[str, Any]
) -> None:
    api = api_as(clerk)
    response = api.post(f"{INVOICES}/{invoice['id']}/rebill", {"reason": "wrong address"})
    assert response.status_code == 201, response.json()
    note, new = response.json()["credit_note"], response.json()["draft"]
    assert (note["number"], note["total"], note["reason"]) == (
        "CN-2026-000001",
        "437.09",
        "Re-bill: wrong address",
    )
    assert (new["status"], new["number"], new["total"], new["links"]["rebill_of_id"]) == (
        "draft",
        None,
        "437.09",
        invoice["id"],
    )
    assert [(line["product_code"], line["quantity"], line["unit_price"]) for line in new["lines"]] == [
        ("CONSULT", "2", "150.00"),
        ("BOOK", "3", "24.95"),
    ]
    original = api.get(f"{INVOICES}/{invoice['id']}").json()
    assert (original["status"], original["links"]["rebill_ids"]) == ("credited", [new["id"]])
    assert [event.action for event in invoice_history(Invoice.objects.get(pk=invoice["id"]))][:1] == [
        "invoice.rebilled"
    ]
    replacement = api.post(f"{INVOICES}/{new['id']}/issue", {})
    assert (replacement.status_code, replacement.json()["number"]) == (200, "INV-2026-000002")
    with nothing_changes():
        again = api.post(f"{INVOICES}/{invoice['id']}/rebill", {"reason": "again"})
    assert refusal(again) == (400, "over_credit", "lines")


# --- edge cases once found as service bugs ------------------------------------------------------


def test_a_credit_note_cannot_be_dated_before_its_invoice(
    api_as, clerk: User, invoice: dict[str, Any]
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = api.post(
            f"{INVOICES}/{invoice['id']}/credit-notes", {"reason": "x", "issued_on": "2020-01-01"}
        )
    assert refusal(response) == (400, "invalid", "issued_on")
