"""The payments API over HTTP with a real bearer token: a receipt posted once per Idempotency-Key, applied
and unapplied; refusals with their code and field, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalEntry
from billops.payments.models import Receipt
from billops.payments.statements.camt import write_camt053
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import unchanged

pytestmark = pytest.mark.django_db

RECEIPTS = "/payments/receipts"
IBAN = "DE89370400440532013000"


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


def test_a_receipt_is_returned_and_a_credit_refunded_over_the_api(
    setup: dict[str, Any], api_as: Any, supervisor: User
) -> None:
    api, customer, invoice = setup["api"], setup["customer"], setup["invoice"]
    first = api.post(RECEIPTS, body(customer.pk, amount="200.00")).json()
    api.post(f"{RECEIPTS}/{first['id']}/apply", {"allocations": [{"invoice_number": invoice.number}]})
    # 81.00 is left on the receipt: the supervisor pays it back, once however often the call is retried
    refund = {
        "amount": "81.00",
        "currency": "EUR",
        "method": "wire",
        "reason": "paid twice",
        "on": "2026-05-20",
    }
    with unchanged():
        clerk_refund = api.post(f"{RECEIPTS}/{first['id']}/refunds", refund)
        assert clerk_refund.status_code == 403  # supervisors refund
    supervisor_api = api_as(supervisor)
    made = supervisor_api.post(f"{RECEIPTS}/{first['id']}/refunds", refund, key="refund-1")
    again = supervisor_api.post(f"{RECEIPTS}/{first['id']}/refunds", refund, key="refund-1")
    assert made.status_code == 201, made.json()
    assert (again.status_code, again.json()["id"]) == (201, made.json()["id"])
    fields = ("amount", "currency", "method", "refunded_on", "bank_account")
    assert [made.json()[key] for key in fields] == ["81.00", "EUR", "wire", "2026-05-20", "MAIN-EUR"]
    second = api.post(RECEIPTS, body(customer.pk, amount="50.00", method="direct_debit")).json()
    with unchanged():
        unknown = api.post(f"{RECEIPTS}/{second['id']}/reverse", {"return_code": "XX99"})
        assert (unknown.status_code, unknown.json()["field"]) == (400, "return_code")
    returned = api.post(f"{RECEIPTS}/{second['id']}/reverse", {"return_code": "MD06", "on": "2026-05-20"})
    assert returned.status_code == 200, returned.json()
    fields = ("status", "return_code", "reversed_on", "return_fee_invoice_id")
    assert [returned.json()[key] for key in fields] == ["reversed", "MD06", "2026-05-20", None]
    with unchanged():
        twice = api.post(f"{RECEIPTS}/{second['id']}/reverse", {"return_code": "MD06"})
        assert twice.status_code == 409


def test_a_bank_file_is_imported_over_the_api_once(setup: dict[str, Any]) -> None:
    api, invoice = setup["api"], setup["invoice"]
    line = StatementLine(line=1, booked_on=date(2026, 5, 19), amount=Decimal("119.00"), currency="EUR",
                         bank_reference="B-1", remittance=f"Invoice {invoice.number}")  # fmt: skip
    statement = ParsedStatement("camt.053", "S-1", IBAN, "EUR", Decimal(0), Decimal("119.00"),
                                date(2026, 5, 19), date(2026, 5, 19), lines=[line])  # fmt: skip
    data = write_camt053([statement])

    def upload(name: str, content: bytes, **fields: str) -> Any:
        return api.client.post(
            "/api/v1/payments/bank-files", {"file": SimpleUploadedFile(name, content), **fields}
        )

    with unchanged():
        refused = upload("broken.xml", b"<Document>")
        assert (refused.status_code, refused.json()["field"]) == (400, "file")
    imported = upload("may.xml", data)
    assert imported.status_code == 200, imported.json()
    assert {key: value for key, value in imported.json().items() if key != "file_id"} == {
        "file_name": "may.xml", "format": "camt.053", "bank_account": "MAIN-EUR", "already_imported": False,
        "lines": 1, "posted": 1, "parked": 0, "rejected": 0, "earlier_posted": 0,
    }  # fmt: skip
    again = upload("may-renamed.xml", data)
    assert (again.json()["already_imported"], again.json()["file_id"]) == (True, imported.json()["file_id"])
    assert Receipt.objects.count() == 1
    needs_layout = upload("may.csv", b"date;amount\n", format="csv")
    assert (needs_layout.status_code, needs_layout.json()["field"]) == (400, "bank_account")
