"""The payments API over HTTP with a real bearer token: a receipt posted once per Idempotency-Key, applied
and unapplied; refusals with their code and field, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalEntry
from billops.payments.models import Receipt
from tests.invoicing.factories import make_customer

pytestmark = pytest.mark.django_db

RECEIPTS = "/payments/receipts"


@pytest.fixture
def setup(
    api_as: Any, clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    customer = make_customer(clerk, account_number="C-1")
    invoice = invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
        lines=[LineData(quantity="1", description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip
    created = api_as(supervisor).post(
        "/payments/bank-accounts",
        {"code": "main-eur", "name": "Main EUR", "currency": "EUR", "number": "DE89 3704 0044 0532 0130 00"},
    )
    assert created.status_code == 201, created.json()
    assert created.json() == {
        "code": "MAIN-EUR", "name": "Main EUR", "currency": "EUR", "number": "DE89370400440532013000",
        "bic": "", "ledger_account": "1100",
    }  # fmt: skip
    return {"customer": customer, "invoice": invoice, "api": api_as(clerk)}


def body(customer_id: int, **fields: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "bank_account": "MAIN-EUR", "method": "wire", "amount": "150.00",
            "currency": "EUR", "received_on": "2026-05-19", "reference": "WIRE-1", **fields}  # fmt: skip


def test_a_receipt_is_posted_once_per_key_applied_and_unapplied(setup: dict[str, Any]) -> None:
    api, customer, invoice = setup["api"], setup["customer"], setup["invoice"]
    first = api.post(RECEIPTS, body(customer.pk), key="k-1")
    assert first.status_code == 201, first.json()
    again = api.post(RECEIPTS, body(customer.pk), key="k-1")
    assert (again.status_code, again["Idempotent-Replayed"], again.json()["id"]) == (
        201,
        "true",
        first.json()["id"],
    )
    assert (Receipt.objects.count(), JournalEntry.objects.filter(source_type="payments.receipt").count()) == (
        1,
        1,
    )
    receipt = first.json()
    assert (receipt["amount"], receipt["unapplied_amount"], receipt["applications"]) == (
        "150.00",
        "150.00",
        [],
    )

    applied = api.post(
        f"{RECEIPTS}/{receipt['id']}/apply", {"allocations": [{"invoice_number": invoice.number}]}
    )
    assert applied.status_code == 200, applied.json()
    [application] = applied.json()["applications"]
    assert (application["item"], application["amount"], applied.json()["unapplied_amount"]) == (
        invoice.number, "119.00", "31.00",
    )  # fmt: skip
    back = api.post(f"/payments/applications/{application['id']}/unapply", {"reason": "wrong invoice"})
    assert back.status_code == 200, back.json()
    assert back.json()["unapplied_amount"] == "150.00"
    assert back.json()["applications"][0]["unapply_reason"] == "wrong invoice"
    listed = api.get(RECEIPTS, unapplied_only="true").json()
    assert [item["id"] for item in listed["items"]] == [receipt["id"]]


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"amount": 150.5}, 422, "invalid", "amount"),
        ({"amount": "-1.00"}, 400, "invalid_amount", "amount"),
        ({"currency": "USD"}, 400, "currency_mismatch", "currency"),
        ({"method": "barter"}, 400, "invalid", "method"),
        ({"method": "card", "card_brand": "VISA", "card_last4": "4242", "processor_reference": "ch_1",
          "payer_name": "4111111111111111"}, 400, "invalid", "payer_name"),
        ({"bank_account": "NONE"}, 404, "not_found", "bank_account"),
    ],
)  # fmt: skip
def test_a_bad_receipt_is_refused_with_code_and_field_and_nothing_written(
    setup: dict[str, Any], change: dict[str, Any], status: int, code: str, field: str
) -> None:
    response = setup["api"].post(RECEIPTS, body(setup["customer"].pk, **change))
    assert response.status_code == status, response.json()
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert not Receipt.objects.exists()


def test_a_collector_may_read_receipts_but_not_post_them(
    setup: dict[str, Any], api_as: Any, collector: User
) -> None:
    api = api_as(collector)
    assert api.get(RECEIPTS).status_code == 200
    refused = api.post(RECEIPTS, body(setup["customer"].pk))
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert not Receipt.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "its frozen content"}, "currency"),
        ({"code": "C" * 21}, "code"),
        ({"number": ""}, "number"),
        ({"bic": "NOT A BIC"}, "bic"),
    ],
)
def test_a_bad_bank_account_is_refused_naming_its_field(
    api_as: Any, supervisor: User, change: dict[str, Any], field: str
) -> None:
    account = {"code": "X", "name": "X", "currency": "EUR", "number": "DE89370400440532013000", **change}
    response = api_as(supervisor).post("/payments/bank-accounts", account)
    assert (response.status_code, response.json()["field"]) == (400, field), response.json()
