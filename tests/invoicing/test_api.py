"""The invoicing API over HTTP with a real bearer token: drafts, lines, approval, issue, the PDF, history,
the journal entry and billing entities; and every refusal leaves the database as it was."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.catalog.models import CustomerPriceList, PriceList, PriceListItem
from billops.customers.models import Customer
from billops.customers.services import place_credit_hold
from billops.invoicing.models import (
    CreditAllocation,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    IssuedDocument,
    NumberSeries,
)
from billops.invoicing.selectors import invoice_history
from billops.ledger.models import JournalEntry
from tests.invoicing.factories import SINCE

pytestmark = pytest.mark.django_db

INVOICES = "/invoicing/invoices"
CONSULT = {"product_code": "CONSULT", "quantity": "2"}  # 2 x 150.00, 19 % VAT
BOOK = {"product_code": "BOOK", "quantity": "3"}  # 3 x 24.95, 7 % VAT
MARCH = "2026-03-05"


def database_state() -> dict[str, Any]:
    """Every row a refused invoicing request must leave alone, and the next number of every series."""
    return {
        "invoices": list(Invoice.objects.order_by("pk").values()),
        "lines": list(InvoiceLine.objects.order_by("pk").values()),
        "taxes": InvoiceTax.objects.count(),
        "documents": IssuedDocument.objects.count(),
        "allocations": CreditAllocation.objects.count(),
        "entries": JournalEntry.objects.count(),
        "events": AuditEvent.objects.count(),
        "series": list(NumberSeries.objects.order_by("pk").values_list("prefix", "year", "next_number")),
    }


@contextmanager
def nothing_changes() -> Iterator[None]:
    """`with nothing_changes(): ...` asserts the block wrote no document, line, entry, event or number."""
    before = database_state()
    yield
    assert database_state() == before


def create(api: Any, customer: Customer, *lines: dict[str, Any], **fields: Any) -> Any:
    body = {"customer_id": customer.pk, "issued_on": MARCH, "lines": list(lines or [CONSULT]), **fields}
    return api.post(INVOICES, body)


def draft(api: Any, customer: Customer, *lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = create(api, customer, *lines, **fields)
    assert response.status_code == 201, response.json()
    return response.json()  # type: ignore[no-any-return]


def issued(api: Any, customer: Customer, *lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = create(api, customer, *lines, issue=True, **fields)
    assert response.status_code == 201, response.json()
    return response.json()  # type: ignore[no-any-return]


def refusal(response: Any) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["code"], body["field"]


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "admin")


@pytest.fixture
def second_supervisor(make_user: Callable[..., User]) -> User:
    return make_user(Role.SUPERVISOR, "supervisor2")


# --- drafts --------------------------------------------------------------------------------------


def test_create_returns_201_with_lines_tax_summary_and_checks(
    api_as, clerk: User, customer: Customer
) -> None:
    response = create(api_as(clerk), customer, CONSULT, BOOK, po_number="PO-7")
    assert response.status_code == 201, response.json()
    data = response.json()
    invoice = Invoice.objects.get()
    assert data["id"] == invoice.pk
    assert {
        k: data[k] for k in ("status", "document_type", "number", "currency", "issued_on", "po_number")
    } == {
        "status": "draft",
        "document_type": "invoice",
        "number": None,
        "currency": "EUR",
        "issued_on": MARCH,
        "po_number": "PO-7",
    }
    assert [data[k] for k in ("subtotal", "discount_total", "tax_total", "total", "open_amount")] == [
        "374.85",
        "0.00",
        "62.24",
        "437.09",
        "0.00",
    ]
    consult, book = data["lines"]
    assert {k: consult[k] for k in ("line_no", "product_code", "quantity", "unit", "unit_price", "net")} == {
        "line_no": 1,
        "product_code": "CONSULT",
        "quantity": "2",
        "unit": "hour",
        "unit_price": "150.00",
        "net": "300.00",
    }
    assert (consult["tax_code"], consult["tax_rate"], consult["tax_amount"]) == ("VAT-STD", "19", "57.00")
    assert (consult["price_source"], consult["revenue_account"]) == ("price list STD-EUR", "4000")
    assert (book["unit_price"], book["net"], book["tax_rate"], book["tax_amount"]) == (
        "24.95",
        "74.85",
        "7",
        "5.24",
    )
    assert [(t["tax_code"], t["rate"], t["taxable"], t["tax"]) for t in data["taxes"]] == [
        ("VAT-STD", "19", "300.00", "57.00"),
        ("VAT-RED", "7", "74.85", "5.24"),
    ]
    assert (data["checks"], data["approval_required"], data["approval_reason"]) == ([], False, "")
    assert data["links"] == {
        "pdf": f"/api/v1/invoicing/invoices/{invoice.pk}/pdf",
        "journal_entry_id": None,
        "void_entry_id": None,
        "original_id": None,
        "correction_ids": [],
        "rebill_of_id": None,
        "rebill_ids": [],
    }
    assert (data["created_by"], data["customer_account_number"]) == ("clerk", customer.account_number)
    event = AuditEvent.objects.get(action="invoice.draft_created")
    assert (event.actor, event.target_id, len(event.after["lines"])) == (clerk, str(invoice.pk), 2)
    assert JournalEntry.objects.count() == 0


def test_issue_numbers_posts_the_entry_and_audits(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    created = draft(api, customer, CONSULT, BOOK)
    response = api.post(f"{INVOICES}/{created['id']}/issue", {})
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["number"], data["issued_on"], data["due_on"]) == (
        "issued",
        "INV-2026-000001",
        MARCH,
        "2026-04-04",
    )
    assert (data["total"], data["open_amount"], data["issued_by"], data["checks"]) == (
        "437.09",
        "437.09",
        "clerk",
        [],
    )
    entry_id = data["links"]["journal_entry_id"]
    entry = api.get(f"{INVOICES}/{created['id']}/journal-entry").json()
    assert (entry["id"], entry["posted_on"], entry["source_id"]) == (entry_id, MARCH, str(created["id"]))
    assert [
        (line["account"], line["debit"], line["credit"], line["customer_id"]) for line in entry["lines"]
    ] == [
        ("1200", "437.09", "0.00", customer.pk),
        ("4000", "0.00", "374.85", None),
        ("2200", "0.00", "62.24", None),
    ]
    event = AuditEvent.objects.get(action="invoice.issued")
    assert (event.actor, event.journal_entry_id, event.after["number"]) == (
        clerk,
        entry_id,
        "INV-2026-000001",
    )
    history = api.get(f"{INVOICES}/{created['id']}/history").json()
    assert [e["action"] for e in history["items"]] == ["invoice.issued", "invoice.draft_created"]
    assert history["items"][0]["journal_entry_id"] == entry_id
    assert NumberSeries.objects.get(prefix="INV").next_number == 2


def test_issue_true_creates_and_issues_in_one_request(api_as, clerk: User, customer: Customer) -> None:
    data = issued(api_as(clerk), customer, BOOK)
    assert (data["status"], data["number"], data["total"], data["open_amount"]) == (
        "issued",
        "INV-2026-000001",
        "80.09",
        "80.09",
    )
    invoice = Invoice.objects.get()
    assert invoice.journal_entry_id == data["links"]["journal_entry_id"]
    # one transaction, one event: no draft was ever left behind to be audited
    assert [event.action for event in invoice_history(invoice)] == ["invoice.issued"]


@pytest.mark.parametrize("issue", [False, True], ids=["draft", "issued"])
def test_the_reply_to_a_create_is_what_reading_the_document_back_shows(
    api_as, clerk: User, customer: Customer, issue: bool
) -> None:
    """The create reply is built from the rows just written, not read back: it must match a later GET."""
    api = api_as(clerk)
    free_text = {
        "description": "Travel, flat",
        "quantity": "1.5",
        "unit_price": "80.123456",
        "tax_code": "VAT-STD",
        "discount_amount": "10",
        "service_start": "2026-02-01",
        "service_end": "2026-02-28",
    }
    discounted = {**CONSULT, "quantity": "12.25", "discount_percent": "7.5"}
    response = create(
        api,
        customer,
        discounted,
        BOOK,
        free_text,
        issue=issue,
        po_number="PO-7",
        invoice_discount_percent="2",
    )
    assert response.status_code == 201, response.json()
    reply = response.json()
    assert reply == api.get(f"{INVOICES}/{reply['id']}").json()
    assert (reply["status"], len(reply["lines"]), len(reply["taxes"])) == (
        "issued" if issue else "draft",
        3,
        2,
    )


def test_the_same_idempotency_key_issues_once_with_one_number(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    body = {"customer_id": customer.pk, "issued_on": MARCH, "lines": [CONSULT], "issue": True}
    first = api.post(INVOICES, body, key="bill-run-7-customer-1")
    again = api.post(INVOICES, body, key="bill-run-7-customer-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-2026-000001"]
    assert NumberSeries.objects.get(prefix="INV").next_number == 2
    assert JournalEntry.objects.count() == 1
    assert AuditEvent.objects.filter(action="invoice.issued").count() == 1
    other = api.post(INVOICES, {**body, "po_number": "X"}, key="bill-run-7-customer-1")
    assert refusal(other) == (422, "idempotency_key_reused", "Idempotency-Key")
    assert Invoice.objects.count() == 1


def test_line_and_delete_requests_retried_with_their_key_act_once(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    path = f"/api/v1{INVOICES}/{created['id']}"
    key = {"Idempotency-Key": "add-book"}
    added = [
        api.client.post(f"{path}/lines", BOOK, content_type="application/json", headers=key) for _ in "12"
    ]
    assert [r.status_code for r in added] == [201, 201]
    assert added[1].headers["Idempotent-Replayed"] == "true"
    assert InvoiceLine.objects.count() == 2
    key = {"Idempotency-Key": "drop-line-1"}
    removed = [api.client.delete(f"{path}/lines/1", headers=key) for _ in "12"]
    assert [r.status_code for r in removed] == [200, 200]
    assert removed[1].json() == removed[0].json()
    key = {"Idempotency-Key": "drop-draft"}
    deleted = [api.client.delete(path, headers=key) for _ in "12"]
    assert [r.status_code for r in deleted] == [200, 200]
    assert Invoice.objects.count() == 0
    actions = AuditEvent.objects.filter(action__startswith="invoice.").order_by("seq").values_list("action")
    assert [action for (action,) in actions] == [
        "invoice.draft_created",
        "invoice.line_added",
        "invoice.line_removed",
        "invoice.draft_deleted",
    ]


@pytest.mark.parametrize("issue", [False, True])
@pytest.mark.parametrize(
    ("line", "status", "code", "field", "says"),
    [
        (
            {"product_code": "CONSULT", "quantity": "-1"},
            400,
            "invalid_amount",
            "lines.0.quantity",
            "credit note",
        ),
        (
            {"product_code": "CONSULT", "quantity": "0"},
            400,
            "invalid_amount",
            "lines.0.quantity",
            "credit note",
        ),
        (
            {"product_code": "CONSULT", "quantity": "1.00001"},
            400,
            "invalid_amount",
            "lines.0.quantity",
            "4 decimal",
        ),
        (
            {"description": "Work", "tax_code": "VAT-STD", "quantity": "1", "unit_price": "10.1234567"},
            400,
            "invalid_amount",
            "lines.0.unit_price",
            "6 decimal",
        ),
        ({"product_code": "CONSULT", "quantity": "1e20"}, 422, "invalid", "lines.0.quantity", "not a number"),
        (
            {"product_code": "CONSULT", "quantity": "123456789012345678901234567890"},
            400,
            "invalid_amount",
            "lines.0.quantity",
            "too large",
        ),
        (
            {"product_code": "CONSULT", "quantity": "1", "unit_price": "123456789012345678901234567890"},
            400,
            "invalid_amount",
            "lines.0.unit_price",
            "too large",
        ),
        ({"product_code": "CONSULT", "quantity": 1.5}, 422, "invalid", "lines.0.quantity", "not a float"),
        (
            {"product_code": "CONSULT", "quantity": "1", "unit_price": 0.1},
            422,
            "invalid",
            "lines.0.unit_price",
            "float",
        ),
        (
            {"product_code": "CONSULT", "quantity": "1", "tax_code": "VAT-XX"},
            404,
            "not_found",
            "lines.0.tax_code",
            "VAT-XX",
        ),
        ({"product_code": "NOPE", "quantity": "1"}, 404, "not_found", "lines.0.product_code", "NOPE"),
        (
            {"quantity": "1", "unit_price": "10", "tax_code": "VAT-STD"},
            400,
            "invalid",
            "lines.0.description",
            "description",
        ),
        (
            {"product_code": "CONSULT", "quantity": "1", "colour": "red"},
            422,
            "invalid",
            "lines.0.colour",
            "Extra",
        ),
        ({"product_code": "CONSULT", "quantity": "NaN"}, 422, "invalid", "lines.0.quantity", "not a number"),
    ],
)
def test_bad_lines_are_refused_naming_the_line_and_nothing_is_written(
    api_as, clerk: User, customer: Customer, issue: bool, line, status, code, field, says
) -> None:
    api = api_as(clerk)
    issued(api, customer)  # so that a number series exists whose next number must not move
    with nothing_changes():
        response = create(api, customer, CONSULT, issue=issue, lines=[line])
    assert refusal(response) == (status, code, field)
    assert says in response.json()["message"]


def test_a_price_list_in_another_currency_is_refused(
    api_as, clerk: User, customer: Customer, catalog: dict[str, Any]
) -> None:
    api = api_as(clerk)
    dollars = PriceList.objects.create(code="STD-USD", name="Standard USD", currency="USD", valid_from=SINCE)
    PriceListItem.objects.create(price_list=dollars, product=catalog["CONSULT"], unit_price=Decimal(160))
    CustomerPriceList.objects.create(customer=customer, price_list=dollars)
    with nothing_changes():
        response = create(api, customer, CONSULT)
    assert refusal(response) == (400, "currency_mismatch", "currency")
    assert "STD-USD is in USD, the invoice in EUR" in response.json()["message"]


def test_a_line_without_any_price_is_refused(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    PriceListItem.objects.filter(product__code="BOOK").delete()
    with nothing_changes():
        response = create(api, customer, BOOK)
    assert refusal(response) == (404, "not_found", "unit_price")
    assert "no price for BOOK in EUR on 2026-03-05" in response.json()["message"]


def test_an_unknown_customer_or_entity_is_404(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    with nothing_changes():
        missing_customer = api.post(INVOICES, {"customer_id": 999_999, "lines": [CONSULT]})
        missing_entity = create(api, customer, entity_code="NOPE")
        too_large = api.post(INVOICES, {"customer_id": 2**70, "lines": [CONSULT]})
    assert refusal(missing_customer) == (404, "not_found", "customer_id")
    assert refusal(missing_entity) == (404, "not_found", "entity_code")
    assert refusal(too_large) == (422, "invalid", "customer_id")


# --- the way to issue ----------------------------------------------------------------------------


def test_issuing_an_issued_invoice_is_409_wrong_status(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    invoice = issued(api, customer)
    with nothing_changes():
        response = api.post(f"{INVOICES}/{invoice['id']}/issue", {})
    assert refusal(response) == (409, "wrong_status", "status")
    assert response.json()["message"] == "INV-2026-000001 is already issued"


def test_patch_changes_a_draft_and_is_409_not_editable_once_issued(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    changed = api.patch(
        f"{INVOICES}/{created['id']}",
        {"po_number": "PO-1", "invoice_discount_percent": "10", "service_start": "2026-02-01"},
    )
    assert changed.status_code == 200, changed.json()
    data = changed.json()
    assert (data["po_number"], data["invoice_discount_percent"], data["service_start"]) == (
        "PO-1",
        "10",
        "2026-02-01",
    )
    assert (data["subtotal"], data["tax_total"], data["total"]) == ("270.00", "51.30", "321.30")
    event = AuditEvent.objects.get(action="invoice.draft_changed")
    assert (event.before["po_number"], event.after["po_number"]) == ("", "PO-1")
    assert api.post(f"{INVOICES}/{created['id']}/issue", {}).status_code == 200
    with nothing_changes():
        response = api.patch(f"{INVOICES}/{created['id']}", {"po_number": "PO-2"})
    assert refusal(response) == (409, "not_editable", "status")
    assert "raise a credit or debit note" in response.json()["message"]


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"language": "es"}, 400, "invalid", "language"),
        ({"invoice_discount_percent": "100"}, 400, "invalid", "invoice_discount_percent"),
        ({"invoice_discount_percent": 10.5}, 422, "invalid", "invoice_discount_percent"),
        ({"service_start": "2026-03-01", "service_end": "2026-02-01"}, 400, "invalid", "service_end"),
        ({"issued_on": "0"}, 422, "invalid", "issued_on"),
        ({"status": "issued"}, 422, "invalid", "status"),
        ({"po_number": "P" * 61}, 400, "invalid", "po_number"),
    ],
)
def test_bad_header_changes_are_refused(
    api_as, clerk: User, customer: Customer, change, status, code, field
) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    with nothing_changes():
        response = api.patch(f"{INVOICES}/{created['id']}", change)
    assert refusal(response) == (status, code, field)


def test_delete_throws_a_draft_away_but_not_an_issued_invoice(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    response = api.client.delete(f"/api/v1{INVOICES}/{created['id']}")
    assert (response.status_code, response.json()) == (200, {"id": created["id"], "deleted": True})
    assert Invoice.objects.count() == InvoiceLine.objects.count() == 0
    assert AuditEvent.objects.get(action="invoice.draft_deleted").before["lines"][0]["product"] == "CONSULT"
    assert refusal(api.get(f"{INVOICES}/{created['id']}")) == (404, "not_found", "invoice_id")
    invoice = issued(api, customer)
    with nothing_changes():
        refused = api.client.delete(f"/api/v1{INVOICES}/{invoice['id']}")
    assert refusal(refused) == (409, "not_editable", "status")


def test_lines_are_added_changed_and_removed(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    path = f"{INVOICES}/{created['id']}/lines"
    added = api.post(path, {**BOOK, "discount_percent": "10"})
    assert added.status_code == 201, added.json()
    assert [(line["line_no"], line["net"]) for line in added.json()["lines"]] == [(1, "300.00"), (2, "67.37")]
    assert added.json()["total"] == "429.09"  # 300.00 + 57.00 + 67.37 + 4.72
    custom = {"description": "Travel", "quantity": "1", "unit_price": "99.999", "tax_code": "VAT-ZERO"}
    changed = api.client.put(f"/api/v1{path}/1", custom, content_type="application/json")
    assert changed.status_code == 200, changed.json()
    first = changed.json()["lines"][0]
    assert (first["description"], first["unit_price"], first["net"], first["price_source"]) == (
        "Travel",
        "99.999",
        "100.00",
        "entered",
    )
    removed = api.client.delete(f"/api/v1{path}/1")
    assert removed.status_code == 200
    assert [line["line_no"] for line in removed.json()["lines"]] == [2]  # the others keep their numbers
    assert removed.json()["total"] == "72.09"
    actions = [event.action for event in invoice_history(Invoice.objects.get())]
    assert actions == [
        "invoice.line_removed",
        "invoice.line_changed",
        "invoice.line_added",
        "invoice.draft_created",
    ]


def test_a_bad_line_in_a_line_request_names_the_field_of_the_body(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    path = f"/api/v1{INVOICES}/{created['id']}/lines"
    with nothing_changes():
        negative = api.post(f"{INVOICES}/{created['id']}/lines", {**CONSULT, "quantity": "-2"})
        unknown = api.client.put(
            f"{path}/1", {**CONSULT, "tax_code": "NOPE"}, content_type="application/json"
        )
        floated = api.client.put(f"{path}/1", {**CONSULT, "quantity": 2.5}, content_type="application/json")
        missing = api.client.put(f"{path}/9", CONSULT, content_type="application/json")
        gone = api.client.delete(f"{path}/9")
    assert refusal(negative) == (400, "invalid_amount", "quantity")
    assert refusal(unknown) == (404, "not_found", "tax_code")
    assert refusal(floated) == (422, "invalid", "quantity")
    assert refusal(missing) == (404, "not_found", "line_no")
    assert refusal(gone) == (404, "not_found", "line_no")


def test_a_zero_amount_invoice_is_not_issued(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    free = {"description": "Goodwill visit", "quantity": "1", "unit_price": "0", "tax_code": "VAT-STD"}
    created = draft(api, customer, free)
    assert created["total"] == "0.00"
    assert created["checks"] == [
        {"code": "zero_amount", "message": "the total is zero: there is nothing to bill", "blocking": True}
    ]
    with nothing_changes():
        later = api.post(f"{INVOICES}/{created['id']}/issue", {})
        at_once = create(api, customer, free, issue=True)
    assert refusal(later) == (409, "pre_issue_check_failed", "zero_amount")
    assert refusal(at_once) == (409, "pre_issue_check_failed", "zero_amount")


def test_a_customer_who_requires_a_po_number_gets_none_without_it(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    Customer.objects.filter(pk=customer.pk).update(po_required=True)
    created = draft(api, customer)
    assert [(c["code"], c["blocking"]) for c in created["checks"]] == [("po_missing", True)]
    with nothing_changes():
        refused = api.post(f"{INVOICES}/{created['id']}/issue", {})
        at_once = create(api, customer, issue=True)
    assert refusal(refused) == (409, "pre_issue_check_failed", "po_missing")
    assert refusal(at_once) == (409, "pre_issue_check_failed", "po_missing")
    assert f"{customer.account_number} requires a PO number" in refused.json()["message"]
    assert api.patch(f"{INVOICES}/{created['id']}", {"po_number": "4500012345"}).status_code == 200
    response = api.post(f"{INVOICES}/{created['id']}/issue", {})
    assert (response.status_code, response.json()["number"]) == (200, "INV-2026-000001")


def test_credit_hold_stops_the_issue_until_a_supervisor_overrides_it(
    api_as, clerk: User, supervisor: User, customer: Customer
) -> None:
    as_clerk, as_supervisor = api_as(clerk), api_as(supervisor)
    created = draft(as_clerk, customer)
    place_credit_hold(customer_id=customer.pk, reason="cheque bounced", actor=clerk)
    path = f"{INVOICES}/{created['id']}"
    assert [(c["code"], c["blocking"]) for c in as_clerk.get(path).json()["checks"]] == [
        ("credit_hold", True)
    ]
    with nothing_changes():
        refused = as_clerk.post(f"{path}/issue", {})
        at_once = create(as_clerk, customer, issue=True)
        clerk_override = as_clerk.post(f"{path}/override-credit-hold", {"reason": "paid by wire"})
        no_reason = as_supervisor.post(f"{path}/override-credit-hold", {"reason": "  "})
    assert refusal(refused) == (409, "pre_issue_check_failed", "credit_hold")
    assert "on credit hold (cheque bounced)" in refused.json()["message"]
    assert refusal(at_once) == (409, "pre_issue_check_failed", "credit_hold")
    assert refusal(clerk_override) == (403, "permission_denied", None)
    assert refusal(no_reason) == (400, "invalid", "reason")
    overridden = as_supervisor.post(f"{path}/override-credit-hold", {"reason": "paid by wire"})
    assert overridden.status_code == 200, overridden.json()
    assert (overridden.json()["hold_override_by"], overridden.json()["hold_override_reason"]) == (
        "supervisor",
        "paid by wire",
    )
    assert overridden.json()["checks"] == []
    response = as_clerk.post(f"{path}/issue", {})
    assert (response.status_code, response.json()["status"]) == (200, "issued")
    assert AuditEvent.objects.get(action="invoice.credit_hold_overridden").actor == supervisor


def test_an_invoice_that_needs_approval_is_submitted_approved_by_another_and_issued(
    api_as, clerk: User, supervisor: User, second_supervisor: User, customer: Customer
) -> None:
    Customer.objects.filter(pk=customer.pk).update(invoice_approval_required=True)
    maker = api_as(supervisor)
    created = draft(maker, customer)
    path = f"{INVOICES}/{created['id']}"
    assert (created["approval_required"], created["approval_reason"]) == (
        True,
        f"{customer.account_number}'s invoices need approval",
    )
    with nothing_changes():
        unapproved = maker.post(f"{path}/issue", {})
        at_once = create(maker, customer, issue=True)
    assert refusal(unapproved) == (409, "wrong_status", "status")
    assert refusal(at_once) == (409, "wrong_status", "lines")
    submitted = maker.post(f"{path}/submit")
    assert (submitted.status_code, submitted.json()["status"], submitted.json()["submitted_by"]) == (
        200,
        "submitted",
        "supervisor",
    )
    as_clerk, checker = api_as(clerk), api_as(second_supervisor)
    with nothing_changes():
        own = maker.post(f"{path}/approve")
        by_clerk = as_clerk.post(f"{path}/approve")
    assert refusal(own) == (403, "self_approval", "approved_by")
    assert refusal(by_clerk) == (403, "permission_denied", None)
    approved = checker.post(f"{path}/approve")
    assert (approved.status_code, approved.json()["status"], approved.json()["approved_by"]) == (
        200,
        "approved",
        "supervisor2",
    )
    response = as_clerk.post(f"{path}/issue", {"issued_on": "2026-03-06"})
    assert (response.status_code, response.json()["number"], response.json()["issued_on"]) == (
        200,
        "INV-2026-000001",
        "2026-03-06",
    )
    assert response.json()["approval_required"] is True
    actions = [event.action for event in invoice_history(Invoice.objects.get())]
    assert actions == ["invoice.issued", "invoice.approved", "invoice.submitted", "invoice.draft_created"]


def test_a_rejected_invoice_goes_back_to_draft_with_the_reason(
    api_as, clerk: User, supervisor: User, customer: Customer
) -> None:
    Customer.objects.filter(pk=customer.pk).update(invoice_approval_required=True)
    api, as_supervisor = api_as(clerk), api_as(supervisor)
    created = draft(api, customer)
    path = f"{INVOICES}/{created['id']}"
    assert api.post(f"{path}/submit").json()["status"] == "submitted"
    with nothing_changes():
        by_clerk = api.post(f"{path}/reject", {"reason": "wrong rate"})
        without_reason = as_supervisor.post(f"{path}/reject", {})
    assert refusal(by_clerk) == (403, "permission_denied", None)
    assert refusal(without_reason) == (422, "invalid", "reason")
    rejected = as_supervisor.post(f"{path}/reject", {"reason": "wrong rate"})
    assert (rejected.status_code, rejected.json()["status"]) == (200, "draft")
    assert AuditEvent.objects.get(action="invoice.rejected").after == {"reason": "wrong rate"}
    with nothing_changes():
        again = as_supervisor.post(f"{path}/reject", {"reason": "still wrong"})
    assert refusal(again) == (409, "wrong_status", "status")


def test_an_approval_threshold_set_by_an_admin_applies_to_larger_invoices(
    api_as, clerk: User, supervisor: User, admin: User, customer: Customer
) -> None:
    body = {"currency": "EUR", "amount": "400.00"}
    api, as_supervisor, as_admin = api_as(clerk), api_as(supervisor), api_as(admin)
    with nothing_changes():
        refused = as_supervisor.post("/invoicing/entities/MAIN/approval-thresholds", body)
        unknown = as_admin.post("/invoicing/entities/NOPE/approval-thresholds", body)
        floated = as_admin.post("/invoicing/entities/MAIN/approval-thresholds", {**body, "amount": 1.5})
        cents = as_admin.post("/invoicing/entities/MAIN/approval-thresholds", {**body, "amount": "1.001"})
    assert refusal(refused) == (403, "permission_denied", None)
    assert refusal(unknown) == (404, "not_found", "entity_code")
    assert refusal(floated) == (422, "invalid", "amount")
    assert refusal(cents) == (400, "invalid_amount", "amount")
    response = as_admin.post("/invoicing/entities/MAIN/approval-thresholds", body)
    assert response.status_code == 200, response.json()
    assert response.json()["approval_thresholds"] == [{"currency": "EUR", "amount": "400.00"}]
    small = draft(api, customer, CONSULT)  # 357.00
    large = draft(api, customer, CONSULT, BOOK)  # 437.09
    assert (small["approval_required"], large["approval_required"]) == (False, True)
    assert "is at or above the approval threshold" in large["approval_reason"]
    assert api.post(f"{INVOICES}/{small['id']}/issue", {}).status_code == 200
    assert refusal(api.post(f"{INVOICES}/{large['id']}/issue", {})) == (409, "wrong_status", "status")


# --- who may do what -----------------------------------------------------------------------------


def test_an_auditor_reads_everything_and_writes_nothing(
    api_as, clerk: User, auditor: User, customer: Customer
) -> None:
    as_clerk = api_as(clerk)
    invoice = issued(as_clerk, customer)
    created = draft(as_clerk, customer)
    api = api_as(auditor)
    one, other = f"{INVOICES}/{invoice['id']}", f"{INVOICES}/{created['id']}"
    reads = [
        api.get(INVOICES),
        api.get(one),
        api.get(f"{INVOICES}/by-number/INV-2026-000001"),
        api.get(f"{one}/history"),
        api.get(f"{one}/journal-entry"),
        api.get("/invoicing/entities"),
    ]
    assert [r.status_code for r in reads] == [200] * 6
    with nothing_changes():
        writes = [
            api.post(INVOICES, {"customer_id": customer.pk, "lines": [CONSULT]}),
            api.post(INVOICES, {"customer_id": customer.pk, "lines": [CONSULT], "issue": True}),
            api.patch(other, {"po_number": "X"}),
            api.client.delete(f"/api/v1{other}"),
            api.post(f"{other}/lines", CONSULT),
            api.client.put(f"/api/v1{other}/lines/1", CONSULT, content_type="application/json"),
            api.client.delete(f"/api/v1{other}/lines/1"),
            api.post(f"{other}/submit"),
            api.post(f"{other}/approve"),
            api.post(f"{other}/reject", {"reason": "x"}),
            api.post(f"{other}/override-credit-hold", {"reason": "x"}),
            api.post(f"{other}/issue", {}),
            api.post(f"{one}/void", {"reason": "x"}),
            api.post(f"{one}/credit-notes", {"reason": "x"}),
            api.post(f"{one}/debit-notes", {"reason": "x", "lines": [CONSULT]}),
            api.post(f"{one}/rebill", {"reason": "x"}),
            api.post("/invoicing/entities/MAIN/approval-thresholds", {"currency": "EUR", "amount": "1"}),
        ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert {r.json()["code"] for r in writes} == {"permission_denied"}


# --- reading -------------------------------------------------------------------------------------


def test_list_filters_and_by_number(api_as, clerk: User, auditor: User, customer: Customer) -> None:
    as_clerk = api_as(clerk)
    other = Customer.objects.get(pk=customer.pk)
    other.pk, other.account_number, other.legal_name = None, "OTHER-1", "Other Ltd"
    other.save()
    old = issued(as_clerk, customer, po_number="PO-OLD", issued_on="2026-01-05")  # due 2026-02-04: overdue
    recent = issued(as_clerk, other, issued_on=date.today().isoformat())  # due in 30 days
    open_draft = draft(as_clerk, customer, issued_on=date.today().isoformat())
    api = api_as(auditor)

    def ids(**query: Any) -> list[int]:
        response = api.get(INVOICES, **query)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [
        open_draft["id"],
        recent["id"],
        old["id"],
    ]  # by date, newest first; the later of one day first
    assert ids(status="draft") == [open_draft["id"]]
    assert ids(status="issued", customer_id=customer.pk) == [old["id"]]
    assert ids(document_type="credit_note") == []
    assert ids(issued_from="2026-01-01", issued_to="2026-01-31") == [old["id"]]
    assert ids(overdue=True) == [old["id"]]
    assert ids(search="po-old") == [old["id"]]
    assert ids(search="other ltd") == [recent["id"]]
    page = api.get(INVOICES, limit=1, offset=1).json()
    assert (page["count"], [item["number"] for item in page["items"]]) == (3, [recent["number"]])
    summary = page["items"][0]
    assert (summary["customer_account_number"], summary["total"], summary["open_amount"]) == (
        "OTHER-1",
        "357.00",
        "357.00",
    )
    assert refusal(api.get(INVOICES, status="isued")) == (422, "invalid", "status")
    assert refusal(api.get(INVOICES, search="a\x00")) == (400, "invalid", "search")
    assert refusal(api.get(INVOICES, issued_from="1700000000")) == (422, "invalid", "issued_from")
    found = api.get(f"{INVOICES}/by-number/inv-2026-000001")
    assert (found.status_code, found.json()["id"]) == (200, old["id"])
    assert refusal(api.get(f"{INVOICES}/by-number/INV-2026-999999")) == (404, "not_found", "number")
    assert api.get(f"{INVOICES}/by-number/INV%20X").status_code == 422


def test_a_draft_has_no_journal_entry_yet(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    assert refusal(api.get(f"{INVOICES}/{created['id']}/journal-entry")) == (404, "not_found", "invoice_id")
    assert refusal(api.get(f"{INVOICES}/999999/history")) == (404, "not_found", "invoice_id")
    assert refusal(api.get(f"{INVOICES}/{2**70}")) == (422, "invalid", "invoice_id")


def test_pdf_of_a_draft_is_a_preview_marked_draft_and_never_kept(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    created = draft(api, customer)
    with nothing_changes():
        response = api.get(f"{INVOICES}/{created['id']}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="draft-{created["id"]}.pdf"'
    assert response.content.startswith(b"%PDF-")
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    assert b"DRAFT" in _pdf_text(response.content)


def test_pdf_of_an_issued_invoice_is_rendered_once_from_its_frozen_content(
    api_as, clerk: User, auditor: User, customer: Customer
) -> None:
    invoice = issued(api_as(clerk), customer)
    api = api_as(auditor)
    first = api.get(f"{INVOICES}/{invoice['id']}/pdf")
    assert first.status_code == 200
    assert first["Content-Disposition"] == 'attachment; filename="INV-2026-000001.pdf"'
    document = IssuedDocument.objects.get(invoice_id=invoice["id"])
    assert first["X-Content-SHA256"] == document.pdf_sha256 == hashlib.sha256(first.content).hexdigest()
    assert b"INV-2026-000001" in _pdf_text(first.content)
    with nothing_changes():
        again = api.get(f"{INVOICES}/{invoice['id']}/pdf")
    assert again.content == first.content
    assert AuditEvent.objects.filter(action="invoice.pdf_rendered").count() == 1


def _pdf_text(content: bytes) -> bytes:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).encode()


# --- billing entities ----------------------------------------------------------------------------

ENTITY = {
    "code": "us-1",
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


def test_entities_are_listed_to_all_and_created_by_an_admin_only(
    api_as, clerk: User, supervisor: User, admin: User, entity: Any
) -> None:
    as_supervisor, as_admin = api_as(supervisor), api_as(admin)
    listed = api_as(clerk).get("/invoicing/entities")
    assert [(e["code"], e["is_default"], e["approval_thresholds"]) for e in listed.json()] == [
        ("MAIN", True, [])
    ]
    with nothing_changes():
        refused = as_supervisor.post("/invoicing/entities", ENTITY)
    assert refusal(refused) == (403, "permission_denied", None)
    created = as_admin.post("/invoicing/entities", ENTITY)
    assert created.status_code == 201, created.json()
    assert {k: created.json()[k] for k in ("code", "invoice_prefix", "is_default", "tax_rounding")} == {
        "code": "US-1",
        "invoice_prefix": "USI",
        "is_default": False,
        "tax_rounding": "per_line",
    }
    assert AuditEvent.objects.get(action="invoicing.entity_created", actor=admin).after["code"] == "US-1"
    with nothing_changes():
        duplicate = as_admin.post("/invoicing/entities", {**ENTITY, "invoice_prefix": "INV"})
        bad_country = as_admin.post("/invoicing/entities", {**ENTITY, "code": "X", "country": "XX"})
        misspelt = as_admin.post("/invoicing/entities", {**ENTITY, "code": "X", "vat": "1"})
    assert refusal(duplicate) == (409, "duplicate", "invoice_prefix")
    assert refusal(bad_country) == (400, "invalid", "country")
    assert refusal(misspelt) == (422, "invalid", "vat")


# --- edge cases once found as service bugs ------------------------------------------------------


def test_an_issue_date_whose_due_date_is_past_year_9999_is_refused(
    api_as, clerk: User, customer: Customer
) -> None:
    api = api_as(clerk)
    with nothing_changes():
        response = create(api, customer, issue=True, issued_on="9999-12-31")
    assert refusal(response) == (400, "invalid", "issued_on")


def test_a_line_too_large_for_the_amount_columns_is_refused(api_as, clerk: User, customer: Customer) -> None:
    api = api_as(clerk)
    huge = {"description": "x", "tax_code": "VAT-STD", "quantity": "99999999999", "unit_price": "9999"}
    with nothing_changes():
        response = create(api, customer, huge)
    assert refusal(response)[:2] == (400, "invalid_amount")
