"""A clerk at a browser works the matching queue: a payment the engine could only match by the payer's
name is applied to its invoice with one click, the line turns into a posted receipt in place, and the
invoice is paid. Debian's Chromium, driven by Playwright."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billops.access.models import Role
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.models import BankLine
from billops.payments.services.bank_files import import_statements
from billops.payments.services.receipts import create_bank_account
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.conftest import PASSWORD
from tests.invoicing.factories import make_catalog, make_customer, make_entity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IBAN = "DE89370400440532013000"


def test_a_clerk_applies_a_parked_payment_with_one_click(
    live_server: Any, page: Any, make_user: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    clerk, supervisor = make_user(Role.CLERK, "clara"), make_user(Role.SUPERVISOR, "sam")
    make_entity()
    make_catalog()
    customer = make_customer(clerk, account_number="C-400", legal_name="Northwind Logistics GmbH")
    invoice = invoice_now(
        customer_id=customer.pk, actor=clerk,
        lines=[LineData(quantity="1", description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip
    create_bank_account(code="MAIN", name="Main EUR", currency="EUR", number=IBAN, actor=supervisor)
    line = StatementLine(
        1, date.today(), Decimal("119.00"), "EUR", "B-1", payer_name="NORTHWIND LOGISTICS", remittance="May"
    )
    import_statements(
        data=b"may", file_name="may.xml", format="camt.053", actor=clerk,
        statements=[ParsedStatement("camt.053", "S-1", IBAN, "EUR", None, None, lines=[line])],
    )  # fmt: skip
    parked = BankLine.objects.get()
    assert parked.status == "parked" and parked.suggestions[0]["score"] == 80

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "clara")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav >> text=Payments")
    page.wait_for_url(f"{live_server.url}/payments/queue/")
    row = page.locator(f"#line-{parked.pk}")
    expect(row).to_contain_text("NORTHWIND LOGISTICS")
    expect(row).to_contain_text("C-400")
    page.screenshot(path=str(artifacts / "matching-queue.png"), full_page=True)
    row.get_by_role("button", name=f"Apply line {parked.pk} to C-400 (score 80)").click()
    expect(page.locator(f"#line-{parked.pk}")).to_contain_text("posted as receipt")
    assert page.url == f"{live_server.url}/payments/queue/"  # swapped in place, no reload
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == ("paid", Decimal(0))
    assert BankLine.objects.get().status == "posted"
