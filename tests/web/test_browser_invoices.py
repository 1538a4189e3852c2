"""A clerk at a browser bills a customer: a new draft, two lines whose totals update in place, the issue,
the number, and the PDF. Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from billops.access.models import Role
from billops.customers import services
from billops.customers.validation import AddressData, ContactData, CustomerData
from tests.conftest import PASSWORD
from tests.invoicing.factories import make_catalog, make_entity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def test_a_clerk_drafts_two_lines_issues_the_invoice_and_opens_its_pdf(
    live_server: Any, page: Any, make_user: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    clerk = make_user(Role.CLERK, "clara")
    make_entity()
    make_catalog()
    services.create_customer(
        data=CustomerData(
            account_number="C-300",
            legal_name="Northwind Logistics GmbH",
            currency="EUR",
            country="DE",
            contacts=[ContactData(role="billing", name="Ada Billing", email="billing@northwind.example")],
            addresses=[
                AddressData(
                    kind="billing", lines="Hafenstraße 7", city="Hamburg", postal_code="20457", country="DE"
                )
            ],
        ),
        actor=clerk,
    )

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "clara")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav >> text=Invoices")
    page.wait_for_url(f"{live_server.url}/invoices/")
    page.click("text=New invoice")
    page.fill("input[name=account_number]", "c-30")
    expect(page.locator("#customer-options option")).to_have_count(1)  # suggested while typing
    page.fill("input[name=account_number]", "C-300")
    page.fill("input[name=po_number]", "PO-4711")
    with page.expect_navigation():
        page.click("text=Start the draft")
    assert page.locator("h1").inner_text().startswith("Draft invoice")
    expect(page.locator("#invoice-total")).to_have_text("0.00 EUR")

    page.evaluate("window.stillTheSamePage = true")
    page.fill("#lineform-product_code", "CONSULT")
    page.fill("#lineform-quantity", "2")
    page.click("button:has-text('Add line')")
    expect(page.locator("#invoice-total")).to_have_text("357.00 EUR")
    page.fill("#lineform-product_code", "BOOK")
    page.fill("#lineform-quantity", "3")
    page.click("button:has-text('Add line')")
    expect(page.locator("#invoice-total")).to_have_text("437.09 EUR")
    expect(page.locator("#lines tbody tr")).to_have_count(2)
    assert page.evaluate("window.stillTheSamePage") is True  # htmx redrew the editor; no page load
    expect(page.locator("#checks .check-ok")).to_have_count(1)
    page.screenshot(path=str(artifacts / "invoice-draft.png"), full_page=True)

    with page.expect_navigation():
        page.click("button:has-text('Issue invoice')")
    number = f"INV-{timezone.localdate().year}-000001"
    expect(page.locator("h1")).to_contain_text(f"Invoice {number}")
    expect(page.locator(".flash-success")).to_have_text(f"Invoice {number} issued.")
    expect(page.locator("#open-amount")).to_have_text("437.09 EUR")

    shown = page.locator("#pdf-sha256")  # loaded by htmx: the first look renders the PDF
    expect(shown).to_have_text(SHA256)
    href = page.locator("#pdf-link").get_attribute("href")
    assert href == f"/invoices/{page.url.rstrip('/').split('/')[-1]}/pdf"
    pdf = page.request.get(f"{live_server.url}{href}")  # with the browser's session
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.body()).hexdigest() == shown.inner_text()

    page.screenshot(path=str(artifacts / "invoice-detail.png"), full_page=True)
    assert (artifacts / "invoice-detail.png").stat().st_size > 10_000

    page.click("nav >> text=Invoices")
    page.fill("input[name=search]", "northwind")
    expect(page.locator("#invoice-results tbody tr")).to_have_count(1)
    page.fill("input[name=search]", "nobody")
    expect(page.locator("#invoice-results tbody tr")).to_have_text("No documents match.")
    assert "search=nobody" in page.url  # the filters stay in the address, to share or reload
    page.fill("input[name=search]", "")
    expect(page.locator("#invoice-results tbody tr").first).to_contain_text(number)
    page.screenshot(path=str(artifacts / "invoice-list.png"), full_page=True)
