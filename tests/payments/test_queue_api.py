"""The matching queue over the API: parked lines with their suggestions, and the clerk's one action on a
line (resolve, dismiss, a receipt coming back, a refund already paid); refusals name their field and
change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.models import BankLine, PayerAccount
from billops.payments.services.bank_files import import_statements
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, unchanged

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
LINES = "/payments/bank-lines"
MAY = date(2026, 5, 12)


@pytest.fixture
def queued(
    api_as: Any, clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """C-1 owes 119.00 and 238.00; a file parks a payment of 119.00 from an unknown account, a fee and
    the return of an earlier direct debit of 50.00."""
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main", currency="EUR", number=IBAN, actor=supervisor)
    customer = make_customer(clerk, account_number="C-1", legal_name="Carter Works Ltd")
    invoices = [
        invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
            lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
        )
        for price in ("100", "200")
    ]  # fmt: skip
    debit = post_receipt(customer_id=customer.pk, bank_account="MAIN", method="direct_debit",
                         amount=eur("50.00"), actor=clerk, received_on=date(2026, 5, 5))  # fmt: skip
    lines = [
        StatementLine(line=1, booked_on=MAY, amount=Decimal("119.00"), currency="EUR", bank_reference="R1",
                      payer_name="C. Works", payer_account="NL91ABNA0417164300", remittance="May"),
        StatementLine(line=2, booked_on=MAY, amount=Decimal("-4.50"), currency="EUR", bank_reference="R2",
                      remittance="Account fee"),
        StatementLine(line=3, booked_on=MAY, amount=Decimal("-50.00"), currency="EUR", bank_reference="R3",
                      remittance=f"RETURN AM04 {debit.pk}"),
    ]  # fmt: skip
    statement = ParsedStatement("camt.053", "S-1", IBAN, "EUR", None, None, lines=lines)
    import_statements(data=b"may", file_name="may.xml", format="camt.053", statements=[statement],
                      actor=clerk)  # fmt: skip
    rows = {row.line: row for row in BankLine.objects.all()}
    return {"customer": customer, "invoices": invoices, "debit": debit, "rows": rows, "api": api_as(clerk)}


def test_the_queue_lists_parked_lines_and_each_is_resolved_in_one_call(queued: dict[str, Any]) -> None:
    api, rows, customer = queued["api"], queued["rows"], queued["customer"]
    listed = api.get(LINES)
    assert listed.status_code == 200, listed.json()
    assert [(item["line"], item["amount"], item["status"]) for item in listed.json()["items"]] == [
        (1, "119.00", "parked"), (2, "-4.50", "parked"), (3, "-50.00", "parked"),
    ]  # fmt: skip
    assert api.get(LINES, status="lost").json()["field"] == "status"

    first = queued["invoices"][0]
    resolved = api.post(
        f"{LINES}/{rows[1].pk}/resolve",
        {"customer_id": customer.pk, "allocations": [{"invoice_number": first.number}]},
    )
    assert resolved.status_code == 200, resolved.json()
    assert (resolved.json()["status"], resolved.json()["evidence"]["rule"]) == (
        "posted",
        "resolved by a clerk",
    )
    assert PayerAccount.objects.get().customer_id == customer.pk  # remembered
    dismissed = api.post(f"{LINES}/{rows[2].pk}/dismiss", {"reason": "bank's account fee"})
    assert (dismissed.json()["status"], dismissed.json()["reason"]) == (
        "rejected",
        "dismissed: bank's account fee",
    )
    debit = queued["debit"]
    returned = api.post(f"{LINES}/{rows[3].pk}/return", {"receipt_id": debit.pk, "return_code": "AM04"})
    assert returned.status_code == 200, returned.json()
    assert (returned.json()["status"], returned.json()["returned_receipt_id"]) == ("posted", debit.pk)
    assert api.get(LINES).json()["items"] == []
    assert [item["line"] for item in api.get(LINES, status="posted").json()["items"]] == [1, 3]
    all_ok()


def test_a_refused_action_names_its_field_and_changes_nothing(
    queued: dict[str, Any], collector: User, api_as: Any
) -> None:
    api, rows, customer = queued["api"], queued["rows"], queued["customer"]
    collector_api = api_as(collector)  # its token is audited: made before
    with unchanged():
        wrong_invoice = api.post(
            f"{LINES}/{rows[1].pk}/resolve",
            {"customer_id": customer.pk, "allocations": [{"invoice_number": "INV-1999-000001"}]},
        )
        assert (wrong_invoice.status_code, wrong_invoice.json()["field"]) == (400, "allocations[1]")
        no_reason = api.post(f"{LINES}/{rows[2].pk}/dismiss", {"reason": " "})
        assert (no_reason.status_code, no_reason.json()["field"]) == (400, "reason")
        money_in = api.post(
            f"{LINES}/{rows[1].pk}/return", {"receipt_id": queued["debit"].pk, "return_code": "AM04"}
        )
        assert money_in.status_code == 400
        unknown_refund = api.post(f"{LINES}/{rows[3].pk}/refund", {"refund_id": 999_999})
        assert (unknown_refund.status_code, unknown_refund.json()["field"]) == (404, "refund_id")
        read_only = collector_api.post(f"{LINES}/{rows[2].pk}/dismiss", {"reason": "fee"})
        assert read_only.status_code == 403
    assert api.get(f"{LINES}/999999").status_code == 404
