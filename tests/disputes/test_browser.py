"""A collector at a browser works a dispute: a note is added in place (htmx, no page load), and the case is
resolved by a credit note from its page. Debian's Chromium, driven by Playwright (the shared browser of
tests/browser.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billops.disputes.models import DisputeNote, Status
from billops.disputes.selectors import get_case
from billops.disputes.services import LineClaim, open_dispute
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_collector_adds_a_note_in_place_and_resolves_by_credit(
    live_server: Any,
    page: Any,
    clerk: Any,
    collector: Any,
    invoice: Any,
) -> None:
    from playwright.sync_api import expect

    case = open_dispute(
        invoice_id=invoice.pk, reason="price", actor=clerk, lines=[LineClaim(line_no=1, amount="59.50")]
    )
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "collector")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/disputes/{case.pk}/")
    expect(page.locator("#credit-preview")).to_contain_text("50.00")

    page.evaluate("window.notReloaded = true")  # gone if the page loads again
    page.fill("#noteform-note", "sales confirms 125.00 an hour")
    page.click("#notes button[type=submit]")
    expect(page.locator("#notes")).to_contain_text("sales confirms 125.00 an hour")
    assert page.evaluate("window.notReloaded") is True
    assert DisputeNote.objects.get(case=case).author == collector

    page.select_option("#credit-root_cause", "pricing_error")
    page.fill("#credit-note", "rate corrected")
    page.click("text=Issue the credit note")
    expect(page.locator("#credit-note-link")).to_contain_text("CN-2026-000001")
    resolved = get_case(case.pk)
    assert (resolved.status, resolved.credit_note.total) == (Status.RESOLVED_CREDIT, Decimal("59.50"))
