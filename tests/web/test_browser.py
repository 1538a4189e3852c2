"""A person at a browser: sign in, find a customer, open it. Debian's Chromium, driven by Playwright."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from billops.access.models import Role
from billops.customers import services
from billops.customers.validation import ContactData, CustomerData
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_signs_in_finds_a_customer_and_opens_it(
    live_server: Any, page: Any, make_user: Any, artifacts: Path
) -> None:
    clerk = make_user(Role.CLERK, "clara")
    for number, name in [("C-100", "Northwind Logistics GmbH"), ("C-200", "Bluewater Dental Ltd")]:
        billing = ContactData(role="billing", name="Ada Billing", email=f"billing@{number.lower()}.example")
        data = CustomerData(
            account_number=number, legal_name=name, currency="EUR", country="DE", contacts=[billing]
        )
        services.create_customer(data=data, actor=clerk)

    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/login/?next=/"
    page.fill("input[name=username]", "clara")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.evaluate("typeof htmx") == "object"  # the npm-built asset is served, no CDN

    page.click("nav >> text=Customers")
    page.fill("input[name=search]", "bluewater")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("search=bluewater") or "search=bluewater&" in page.url
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1
    with page.expect_navigation():
        page.click("text=C-200")

    assert page.locator("h1").inner_text().startswith("C-200 · Bluewater Dental Ltd")
    assert "C-200" in page.content()
    assert "billing@c-200.example" in page.locator("#contacts").inner_text()
    page.screenshot(path=str(artifacts / "customer-detail.png"), full_page=True)
    assert (artifacts / "customer-detail.png").stat().st_size > 10_000
