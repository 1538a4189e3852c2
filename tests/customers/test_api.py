"""The customers API over HTTP with a real bearer token: status codes, bodies, and nothing written
when a request is refused."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.customers.models import Customer
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

NEW = {"account_number": "A-100", "legal_name": "Acme GmbH", "currency": "EUR", "country": "DE"}


def test_create_returns_201_with_the_customer(api_as, clerk: User) -> None:
    api = api_as(clerk)
    body = {
        **NEW,
        "vat_id": "DE 136 695 976",
        "tags": ["VIP"],
        "cycle_day": 10,
        "contacts": [{"role": "billing", "email": "bill@acme.example", "is_primary": True}],
        "addresses": [{"kind": "billing", "lines": "Hauptstr. 1", "city": "Bonn", "country": "DE"}],
    }
    response = api.post("/customers/", body)
    assert response.status_code == 201, response.json()
    data = response.json()
    customer = Customer.objects.get()
    assert data["id"] == customer.pk
    assert {
        k: data[k] for k in ("account_number", "vat_id", "credit_limit", "terms", "cycle_day", "tags")
    } == {
        "account_number": "A-100",
        "vat_id": "DE136695976",
        "credit_limit": "0.00",
        "terms": "NET30",
        "cycle_day": 10,
        "tags": ["vip"],
    }
    assert data["contacts"][0]["email"] == "bill@acme.example"
    assert data["addresses"][0]["city"] == "Bonn"
    assert AuditEvent.objects.filter(action="customers.created", actor=clerk).count() == 1


def test_amounts_are_decimal_strings(api_as, supervisor: User) -> None:
    response = api_as(supervisor).post("/customers/", {**NEW, "credit_limit": "5000.00"})
    assert response.status_code == 201
    assert response.json()["credit_limit"] == "5000.00"
    assert Customer.objects.get().credit_limit == Decimal("5000.00")


@pytest.mark.parametrize("amount", [5000.5, 5000.0, 0.1])
def test_a_json_float_amount_is_refused_and_names_the_field(
    api_as, supervisor: User, unchanged, amount
) -> None:
    api = api_as(supervisor)
    with unchanged():
        response = api.post("/customers/", {**NEW, "credit_limit": amount})
    assert response.status_code == 422
    assert response.json()["field"] == "credit_limit"
    assert "credit_limit must be given as a decimal string, not a float" in response.json()["message"]


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"currency": "EUX"}, 400, "unknown_currency", "currency"),
        ({"vat_id": "DE136695978"}, 400, "invalid_vat_id", "vat_id"),
        ({"credit_limit": "-1.00"}, 400, "invalid_amount", "credit_limit"),
        ({"credit_limit": "1,000.00"}, 422, "invalid", "credit_limit"),
        ({"account_number": "A 1"}, 400, "invalid", "account_number"),
        ({"colour": "red"}, 422, "invalid", "colour"),
    ],
)
def test_bad_input_is_refused_with_code_and_field(
    api_as, supervisor: User, unchanged, change, status, code, field
) -> None:
    api = api_as(supervisor)
    with unchanged():
        response = api.post("/customers/", {**NEW, **change})
    assert response.status_code == status
    assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_duplicate_customer_number_is_409(api_as, clerk: User, unchanged) -> None:
    api = api_as(clerk)
    assert api.post("/customers/", NEW).status_code == 201
    with unchanged():
        response = api.post("/customers/", {**NEW, "account_number": "a-100", "legal_name": "Other"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "duplicate",
        "message": "a customer with account number A-100 already exists",
        "field": "account_number",
    }


def test_several_problems_list_each(api_as, clerk: User) -> None:
    response = api_as(clerk).post("/customers/", {**NEW, "currency": "EUX", "country": "XX"})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("currency", "unknown_currency"),
        ("country", "invalid"),
    ]


def test_the_same_idempotency_key_creates_once(api_as, clerk: User) -> None:
    api = api_as(clerk)
    first = api.post("/customers/", NEW, key="create-a-100")
    again = api.post("/customers/", NEW, key="create-a-100")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Customer.objects.count() == 1


def test_get_list_and_filters(api_as, clerk: User, auditor: User) -> None:
    create_customer(clerk, account_number="L-1", legal_name="One", currency="USD")
    create_customer(clerk, account_number="L-2", legal_name="Two", tags="vip")
    api = api_as(auditor)  # reading is fine for an auditor
    listed = api.get("/customers/", limit=1)
    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert [c["account_number"] for c in listed.json()["items"]] == ["L-1"]
    assert [c["account_number"] for c in api.get("/customers/", tag="vip").json()["items"]] == ["L-2"]
    assert [c["account_number"] for c in api.get("/customers/", currency="USD").json()["items"]] == ["L-1"]
    assert [c["account_number"] for c in api.get("/customers/", search="two").json()["items"]] == ["L-2"]
    one = Customer.objects.get(account_number="L-1")
    assert api.get(f"/customers/{one.pk}").json()["legal_name"] == "One"
    missing = api.get("/customers/999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_patch_changes_fields_and_history_shows_before_after(api_as, clerk: User) -> None:
    customer = create_customer(clerk, legal_name="Before GmbH")
    api = api_as(clerk)
    response = api.patch(f"/customers/{customer.pk}", {"legal_name": "After GmbH", "cycle": "quarterly"})
    assert response.status_code == 200, response.json()
    assert (response.json()["legal_name"], response.json()["cycle"]) == ("After GmbH", "quarterly")
    history = api.get(f"/customers/{customer.pk}/history").json()["items"]
    assert [e["action"] for e in history] == ["customers.changed", "customers.created"]
    assert history[0]["before"] == {"legal_name": "Before GmbH", "cycle": "monthly"}
    assert history[0]["after"] == {"legal_name": "After GmbH", "cycle": "quarterly"}
    assert history[0]["actor_label"] == "clerk"


def test_credit_endpoints(api_as, clerk: User, supervisor: User, collector: User, unchanged) -> None:
    customer = create_customer(clerk)
    path = f"/customers/{customer.pk}"
    as_collector, as_clerk, as_supervisor = api_as(collector), api_as(clerk), api_as(supervisor)
    held = as_collector.post(f"{path}/credit-hold", {"reason": "Cheque bounced"})
    assert (held.status_code, held.json()["credit_hold"], held.json()["credit_hold_reason"]) == (
        200,
        True,
        "Cheque bounced",
    )
    with unchanged():
        assert as_collector.post(f"{path}/credit-hold/release", {}).status_code == 403
        assert as_clerk.post(f"{path}/credit-limit", {"credit_limit": "100.00"}).status_code == 403
        refused = as_supervisor.post(f"{path}/credit-limit", {"credit_limit": 100.5})
        assert (refused.status_code, refused.json()["field"]) == (422, "credit_limit")
    released = as_supervisor.post(f"{path}/credit-hold/release", {"note": "paid"})
    assert (released.status_code, released.json()["credit_hold"]) == (200, False)
    limited = as_supervisor.post(f"{path}/credit-limit", {"credit_limit": "7500"})
    assert (limited.status_code, limited.json()["credit_limit"]) == (200, "7500.00")


def test_contacts_and_addresses_endpoints(api_as, clerk: User, make_user) -> None:
    customer = create_customer(clerk)
    other = create_customer(clerk)
    api = api_as(clerk)
    added = api.post(
        f"/customers/{customer.pk}/contacts", {"role": "ap", "name": "Pat", "email": "pat@x.example"}
    )
    assert added.status_code == 201
    contact_id = added.json()["id"]
    changed = api.patch(f"/customers/{customer.pk}/contacts/{contact_id}", {"phone": "+1 555 0100"})
    assert (changed.status_code, changed.json()["phone"]) == (200, "+1 555 0100")
    assert api.patch(f"/customers/{other.pk}/contacts/{contact_id}", {"phone": "1"}).status_code == 404
    address = api.post(
        f"/customers/{customer.pk}/addresses",
        {"kind": "remit_to", "lines": "PO Box 1", "city": "Bonn", "country": "DE"},
    )
    assert address.status_code == 201
    moved = api.patch(f"/customers/{customer.pk}/addresses/{address.json()['id']}", {"postal_code": "53111"})
    assert (moved.status_code, moved.json()["postal_code"]) == (200, "53111")
    bad = api.post(f"/customers/{customer.pk}/contacts", {"role": "ap", "email": "nope"})
    assert (bad.status_code, bad.json()["field"]) == (400, "email")


def test_an_auditor_gets_403_from_every_write_endpoint_and_nothing_is_written(
    api_as, clerk: User, auditor: User, unchanged
) -> None:
    customer = create_customer(clerk)
    contact = customer.contacts.create(role="billing", name="C")
    address = customer.addresses.create(kind="billing", lines="L", city="C", country="DE")
    api = api_as(auditor)
    path = f"/customers/{customer.pk}"
    upload = SimpleUploadedFile("c.csv", b"account_number,legal_name,currency,country\nZ-1,Z,EUR,DE\n")
    with unchanged():
        responses = [
            api.post("/customers/", NEW),
            api.patch(path, {"legal_name": "X"}),
            api.post(f"{path}/credit-hold", {"reason": "x"}),
            api.post(f"{path}/credit-hold/release", {}),
            api.post(f"{path}/credit-limit", {"credit_limit": "1.00"}),
            api.post(f"{path}/contacts", {"role": "ap", "name": "X"}),
            api.patch(f"{path}/contacts/{contact.pk}", {"name": "X"}),
            api.post(f"{path}/addresses", {"kind": "shipping", "lines": "L", "city": "C", "country": "DE"}),
            api.patch(f"{path}/addresses/{address.pk}", {"city": "X"}),
            api.client.post("/api/v1/customers/import", {"file": upload}),
        ]
    assert [r.status_code for r in responses] == [403] * 10
    assert {r.json()["code"] for r in responses} == {"permission_denied"}


def test_import_endpoint(api_as, clerk: User, unchanged) -> None:
    api = api_as(clerk)
    good = SimpleUploadedFile(
        "c.csv", b"account_number;legal_name;currency;country\nI-1;One;EUR;DE\nI-2;Two;EUR;DE\n"
    )
    response = api.client.post("/api/v1/customers/import", {"file": good})
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 2
    assert sorted(Customer.objects.values_list("account_number", flat=True)) == ["I-1", "I-2"]

    bad = SimpleUploadedFile(
        "c.csv", b"account_number,legal_name,currency,country\nI-3,Three,EUR,DE\nI-1,Again,EUR,DE\n"
    )
    with unchanged():
        response = api.client.post("/api/v1/customers/import", {"file": bad})
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("import_rejected", "file")
    assert body["rejects"] == [
        {"row": 3, "column": "account_number", "message": "a customer with account number I-1 already exists"}
    ]
    assert body["rejects_csv"].splitlines() == [
        "row,column,message",
        "3,account_number,a customer with account number I-1 already exists",
    ]


def test_export_endpoints(api_as, clerk: User, auditor: User) -> None:
    create_customer(clerk, account_number="X-1", legal_name="=cmd")
    api = api_as(auditor)
    response = api.get("/customers/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:2] == ["X-1", "'=cmd"]
    xlsx = api.get("/customers/export.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content.startswith(b"PK\x03\x04")


def test_unauthenticated_requests_are_401(client) -> None:
    assert client.get("/api/v1/customers/").status_code == 401


def test_an_import_retried_with_its_idempotency_key_imports_once(api_as, clerk: User) -> None:
    api = api_as(clerk)
    content = b"account_number,legal_name,currency,country\nR-1,Retry,EUR,DE\n"
    responses = [
        api.client.post(
            "/api/v1/customers/import",
            {"file": SimpleUploadedFile("c.csv", content)},
            headers={"Idempotency-Key": "import-1"},
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[1].headers["Idempotent-Replayed"] == "true"
    assert responses[1].json() == responses[0].json()
    assert Customer.objects.count() == 1
    assert AuditEvent.objects.filter(action="customers.imported").count() == 1


# found by schemathesis (tests/test_api_schema.py): SQLite cannot compare an integer past 64 bits, so a
# huge customer id in a contact's or an address's path was a 500
def test_an_id_too_large_for_the_database_is_422(api_as, clerk: User, unchanged) -> None:
    customer = create_customer(clerk)
    api = api_as(clerk)
    too_large = 2**70
    with unchanged():
        contact = api.patch(f"/customers/{too_large}/contacts/1", {"name": "X"})
        address = api.patch(f"/customers/{customer.pk}/addresses/{too_large}", {"city": "X"})
    assert (contact.status_code, contact.json()["field"]) == (422, "customer_id")
    assert (address.status_code, address.json()["field"]) == (422, "address_id")
    assert api.get(f"/customers/{too_large}").status_code == 422


# found by schemathesis: `?offset=` past a 64-bit integer went into SQL and came back as a 500
def test_a_page_offset_too_large_for_the_database_is_422(api_as, clerk: User) -> None:
    api = api_as(clerk)
    refused = api.get("/customers/", offset=2**63)
    assert (refused.status_code, refused.json()["field"]) == (422, "offset")
    assert api.get("/customers/", offset=2**63 - 1, limit=2**63 - 1).json()["items"] == []


# found by schemathesis: Pydantic read a number as a Unix timestamp, booking a balance in 1970
def test_an_opening_balance_date_must_be_written_as_a_date(api_as, supervisor: User, unchanged) -> None:
    customer = create_customer(supervisor)
    api = api_as(supervisor)
    body = {"amount": "10.00", "currency": "EUR", "balance_on": "0", "reference": "OB-1"}
    with unchanged():
        response = api.post(f"/customers/{customer.pk}/opening-balances", body)
    assert (response.status_code, response.json()["field"]) == (422, "balance_on")


# found by schemathesis: a request without the file got 422 with no `rejects`, which the schema required,
# and named the field "file.file"
def test_an_import_without_a_file_is_422_naming_the_file(api_as, clerk: User, unchanged) -> None:
    api = api_as(clerk)
    with unchanged():
        response = api.client.post("/api/v1/customers/import", {})
    assert response.status_code == 422
    assert response.json()["message"] == "file: Field required"
    assert (response.json()["code"], response.json()["field"]) == ("invalid", "file")


# found by schemathesis: PostgreSQL can neither store nor compare text holding NUL, which was a 500
def test_text_with_a_nul_character_is_400_naming_the_field(api_as, supervisor: User, unchanged) -> None:
    customer = create_customer(supervisor)
    api = api_as(supervisor)
    balance = {"amount": "10.00", "currency": "EUR", "balance_on": "2025-01-31", "reference": "OB\x00"}
    with unchanged():
        searched = api.get("/customers/", search="a\x00")
        exported = api.get("/customers/export.csv", tag="\x00")
        posted = api.post(f"/customers/{customer.pk}/opening-balances", balance)
    assert (searched.status_code, searched.json()["field"]) == (400, "search")
    assert (exported.status_code, exported.json()["field"]) == (400, "tag")
    assert (posted.status_code, posted.json()["field"]) == (400, "reference")


def test_the_bill_run_settings_are_set_changed_and_audited(api_as, clerk: User, unchanged) -> None:
    api = api_as(clerk)
    created = api.post("/customers/", {**NEW, "run_invoice_per": "matter_or_contract"}).json()
    assert (created["run_invoice_per"], created["run_creates_drafts"]) == ("matter_or_contract", False)
    response = api.patch(
        f"/customers/{created['id']}", {"run_creates_drafts": True, "run_invoice_per": "customer"}
    )
    assert response.status_code == 200, response.json()
    customer = Customer.objects.get(pk=created["id"])
    assert (customer.run_invoice_per, customer.run_creates_drafts) == ("customer", True)
    history = api.get(f"/customers/{customer.pk}/history").json()["items"]
    assert history[0]["before"] == {"run_invoice_per": "matter_or_contract", "run_creates_drafts": False}
    assert history[0]["after"] == {"run_invoice_per": "customer", "run_creates_drafts": True}
    with unchanged():
        refused = api.patch(f"/customers/{customer.pk}", {"run_invoice_per": "matter"})
    assert refused.status_code == 400
    assert (refused.json()["field"], refused.json()["code"]) == ("run_invoice_per", "invalid")
