"""A collector at a browser works one item of the worklist: opens the most urgent customer, logs the call
and the promise to pay it ended with, and the customer leaves today's list until the promised day. Debian's
Chromium, driven by Playwright."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billops.access import clock
from billops.access.models import Role
from billops.collections.models import Activity, PromiseToPay
from billops.collections.services.accounts import assign_collector
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from tests.conftest import PASSWORD
from tests.invoicing.factories import make_catalog, make_customer, make_entity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_collector_works_a_worklist_item_to_a_promise(
    live_server: Any, page: Any, make_user: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    collector, supervisor = make_user(Role.COLLECTOR, "colin"), make_user(Role.SUPERVISOR, "sam")
    clerk = make_user(Role.CLERK, "clara")
    make_entity()
    make_catalog()
    today = clock.today()
    late = make_customer(clerk, account_number="C-700", legal_name="Tardy Trading GmbH")
    on_time = make_customer(clerk, account_number="C-701", legal_name="Prompt Partners AG")
    for customer, days_ago in ((late, 75), (late, 45), (on_time, 40)):
        invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=today - timedelta(days=days_ago),
            lines=[LineData(quantity="10", description="Service", unit_price="100", tax_code="VAT-STD")],
        )  # fmt: skip
    for customer in (late, on_time):
        assign_collector(customer_id=customer.pk, collector_id=collector.pk, actor=supervisor)

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "colin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav >> text=Worklist")
    page.wait_for_url(f"{live_server.url}/collections/worklist/")
    rows = page.locator("#worklist tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("C-700")  # more overdue and older: first
    expect(rows.first).to_contain_text("2,380.00 EUR")
    page.screenshot(path=str(artifacts / "worklist.png"), full_page=True)

    rows.first.get_by_role("link", name="C-700").click()
    page.wait_for_url(f"{live_server.url}/collections/customers/{late.pk}/")
    expect(page.locator("#open-items")).to_contain_text("31-60")
    activity = page.locator("#activity-form")
    activity.get_by_label("What").select_option("call")
    activity.get_by_label("Outcome").select_option("promised")
    activity.get_by_label("Contact", exact=True).fill("Tara Tardy, AP")
    activity.get_by_label("Note", exact=True).fill("Cash flow is tight; will pay the older invoice first")
    activity.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status").first).to_contain_text("Activity recorded.")

    promise = page.locator("#promise-form")
    promise.get_by_label("Amount", exact=True).fill("1190.00")
    promise.get_by_label("To pay by", exact=True).fill((today + timedelta(days=7)).isoformat())
    promise.get_by_label("Promised by", exact=True).fill("Tara Tardy, AP")
    promise.get_by_role("button", name="Record promise").click()
    expect(page.get_by_role("status").first).to_contain_text("Promise of 1190.00 EUR recorded.")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Promised 1190.00 EUR by {(today + timedelta(days=7)).isoformat()}")
    expect(timeline).to_contain_text("Call: Promised to pay")
    page.screenshot(path=str(artifacts / "collections-customer.png"), full_page=True)

    page.click("nav >> text=Worklist")
    expect(page.locator("#worklist tbody tr")).to_have_count(1)  # C-700 waits on its promise
    expect(page.locator("#worklist")).not_to_contain_text("C-700")
    made = PromiseToPay.objects.get()
    assert (made.customer_id, made.amount, made.status, made.created_by_id) == (
        late.pk, Decimal("1190.00"), "open", collector.pk,
    )  # fmt: skip
    assert Activity.objects.get().outcome == "promised"
