"""Every invoicing operation made to succeed once through schemathesis, so that each success reply (which
fuzzed requests seldom reach) is validated against the OpenAPI schema, status code and content type."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from billops.access.models import Role, User
from billops.access.services import issue_api_token
from billops.customers.models import Customer
from billops.customers.services import place_credit_hold
from billops.invoicing.models import Invoice
from tests.test_api_schema import Walk, _keep_the_test_connection  # noqa: F401 - the fixture is autouse

pytestmark = pytest.mark.django_db

CONSULT = {"product_code": "CONSULT", "quantity": "2"}
BOOK = {"product_code": "BOOK", "quantity": "3"}
ENTITY = {
    "code": "US-1",
    "legal_name": "Billops Inc.",
    "address_lines": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
    "country": "US",
    "invoice_prefix": "USI",
    "credit_note_prefix": "USC",
    "debit_note_prefix": "USD",
}


def walk_as(user: User) -> Walk:
    _, secret = issue_api_token(user=user, name="walk", actor=None)
    return Walk({"Authorization": f"Bearer {secret}"})


def test_each_invoicing_operation_succeeds_and_its_reply_matches_the_schema(
    clerk: User, supervisor: User, make_user: Callable[..., User], customer: Customer
) -> None:
    as_clerk, as_supervisor, as_admin = walk_as(clerk), walk_as(supervisor), walk_as(make_user(Role.ADMIN))

    as_admin(201, "POST /invoicing/entities", body=ENTITY)
    main = {"code": "MAIN"}
    threshold = {"currency": "EUR", "amount": "400.00"}
    as_admin(200, "POST /invoicing/entities/{code}/approval-thresholds", main, body=threshold)
    assert [e["code"] for e in as_clerk(200, "GET /invoicing/entities")] == ["MAIN", "US-1"]

    # 437.09 EUR, at or above the threshold: submitted, rejected, submitted again, approved, issued
    body = {"customer_id": customer.pk, "issued_on": "2026-03-05", "lines": [CONSULT, BOOK]}
    one = {"invoice_id": as_clerk(201, "POST /invoicing/invoices", body=body)["id"]}
    as_clerk(
        200, "PATCH /invoicing/invoices/{invoice_id}", one, body={"po_number": "PO-1", "notes": "Thanks"}
    )
    as_clerk(201, "POST /invoicing/invoices/{invoice_id}/lines", one, body={**BOOK, "discount_percent": "5"})
    travel = {"description": "Travel", "quantity": "1", "unit_price": "80.5", "tax_code": "VAT-STD"}
    line = {**one, "line_no": 3}
    as_clerk(200, "PUT /invoicing/invoices/{invoice_id}/lines/{line_no}", line, body=travel)
    as_clerk(200, "DELETE /invoicing/invoices/{invoice_id}/lines/{line_no}", line)
    assert as_clerk(200, "POST /invoicing/invoices/{invoice_id}/submit", one)["status"] == "submitted"
    as_supervisor(200, "POST /invoicing/invoices/{invoice_id}/reject", one, body={"reason": "check rate"})
    as_clerk(200, "POST /invoicing/invoices/{invoice_id}/submit", one)
    as_supervisor(200, "POST /invoicing/invoices/{invoice_id}/approve", one)
    assert as_clerk(200, "GET /invoicing/invoices/{invoice_id}/pdf", one).startswith(b"%PDF-")
    invoice = as_clerk(200, "POST /invoicing/invoices/{invoice_id}/issue", one, body={})
    assert invoice["number"] == "INV-2026-000001"
    as_clerk(200, "GET /invoicing/invoices/by-number/{number}", {"number": invoice["number"]})
    as_clerk(200, "GET /invoicing/invoices/{invoice_id}", one)
    assert as_clerk(200, "GET /invoicing/invoices/{invoice_id}/pdf", one).startswith(b"%PDF-")
    assert len(as_clerk(200, "GET /invoicing/invoices/{invoice_id}/history", one)["items"]) == 11
    as_clerk(200, "GET /invoicing/invoices/{invoice_id}/journal-entry", one)
    query = {"status": "issued", "customer_id": customer.pk, "issued_from": "2026-01-01", "search": "inv"}
    assert as_clerk(200, "GET /invoicing/invoices", query=query)["count"] == 1

    # corrections: a debit note, a partial credit note, a void, a re-bill
    freight = {"description": "Freight", "quantity": "1", "unit_price": "25", "tax_code": "VAT-STD"}
    debit = as_clerk(201, "POST /invoicing/invoices/{invoice_id}/debit-notes", one, body={
        "reason": "freight", "lines": [freight]
    })  # fmt: skip
    as_clerk(200, "POST /invoicing/invoices/{invoice_id}/issue", {"invoice_id": debit["id"]}, body={})
    credit = {
        "reason": "one hour less",
        "lines": [{"line_no": 1, "quantity": "1"}],
        "issued_on": "2026-03-10",
    }
    note = as_clerk(201, "POST /invoicing/invoices/{invoice_id}/credit-notes", one, body=credit)
    assert (note["number"], note["links"]["original_id"]) == ("CN-2026-000001", one["invoice_id"])
    other = {
        "invoice_id": as_clerk(
            201, "POST /invoicing/invoices", body={**body, "lines": [BOOK], "issue": True}
        )["id"]
    }
    assert (
        as_clerk(200, "POST /invoicing/invoices/{invoice_id}/void", other, body={"reason": "typo"})["status"]
        == "void"
    )
    third = {
        "invoice_id": as_clerk(
            201, "POST /invoicing/invoices", body={**body, "lines": [BOOK], "issue": True}
        )["id"]
    }
    rebill = as_clerk(
        201, "POST /invoicing/invoices/{invoice_id}/rebill", third, body={"reason": "wrong address"}
    )
    assert rebill["draft"]["links"]["rebill_of_id"] == third["invoice_id"]
    as_clerk(200, "DELETE /invoicing/invoices/{invoice_id}", {"invoice_id": rebill["draft"]["id"]})

    # a customer on credit hold: a supervisor overrides it for one draft
    place_credit_hold(customer_id=customer.pk, reason="cheque bounced", actor=clerk)
    held = {"invoice_id": as_clerk(201, "POST /invoicing/invoices", body={**body, "lines": [BOOK]})["id"]}
    as_supervisor(
        200, "POST /invoicing/invoices/{invoice_id}/override-credit-hold", held, body={"reason": "paid"}
    )
    assert as_clerk(200, "POST /invoicing/invoices/{invoice_id}/issue", held, body={})["status"] == "issued"
    assert Invoice.objects.filter(number__isnull=False).count() == 7
