"""Staff pages: they show the book, and a refused close or reversal is explained on the page."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from billops.audit.models import AuditEvent
from billops.ledger.accounts import BANK, RECEIVABLES, REVENUE
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, PeriodStatus
from billops.ledger.posting import credit, debit
from billops.ledger.services import close_period
from tests.ledger.factories import book_state, eur, money, post, post_document


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def entry(supervisor):
    return post(
        supervisor,
        debit(BANK, eur("1234.50")),
        credit(REVENUE, eur("1234.50"), customer_id=9),
        on=date(2025, 3, 14),
        memo="March retainer",
    )


def test_pages_need_a_signed_in_user(db):
    for name in ("accounts", "trial_balance", "journal", "periods"):
        response = Client().get(reverse(f"ledger:{name}"))
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_chart_of_accounts_shows_balances(entry, clerk):
    response = signed_in(clerk).get(reverse("ledger:accounts"), {"as_of": "2025-03-31"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Accounts receivable" in page
    assert "Bank" in page
    assert "1,234.50 EUR" in page
    assert "-1,234.50 EUR" in page
    assert "Add an account" not in page  # clerks do not manage the chart


def test_supervisor_adds_an_account_from_the_page_and_a_duplicate_is_explained(supervisor):
    client = signed_in(supervisor)
    response = client.post(
        reverse("ledger:accounts"), {"code": "1010", "name": "Second bank", "type": "asset"}
    )
    assert response.status_code == 302
    assert Account.objects.filter(code="1010", name="Second bank", purpose="").exists()
    before = book_state()
    refused = client.post(reverse("ledger:accounts"), {"code": "1010", "name": "Again", "type": "asset"})
    assert refused.status_code == 409
    assert "there is already an account 1010" in refused.content.decode()
    assert book_state() == before


def test_trial_balance_page_has_totals_per_currency(entry, supervisor, auditor):
    post(
        supervisor,
        debit(BANK, money("500", "JPY")),
        credit(REVENUE, money("500", "JPY")),
        on=date(2025, 3, 20),
    )
    client = signed_in(auditor)
    page = client.get(reverse("ledger:trial_balance"), {"as_of": "2025-03-31"}).content.decode()
    assert "Trial balance as of 2025-03-31" in page
    assert "Total EUR" in page and "Total JPY" in page
    assert page.count("balanced</span>") == 2
    earlier = client.get(reverse("ledger:trial_balance"), {"as_of": "2025-03-13"}).content.decode()
    assert "Nothing was posted up to 2025-03-13" in earlier
    bad = client.get(reverse("ledger:trial_balance"), {"as_of": "31.03.2025"}).content.decode()
    assert "&#x27;31.03.2025&#x27; is not a date like 2025-01-31" in bad


def test_journal_lists_and_filters_entries(entry, supervisor, clerk):
    other = post(supervisor, debit(BANK, eur("5.00")), credit(REVENUE, eur("5.00")), on=date(2025, 3, 20))
    client = signed_in(clerk)
    page = client.get(reverse("ledger:journal")).content.decode()
    assert reverse("ledger:entry", args=[entry.id]) in page
    assert reverse("ledger:entry", args=[other.id]) in page
    assert "1,234.50 EUR" in page
    filtered = client.get(reverse("ledger:journal"), {"customer_id": "9"}).content.decode()
    assert reverse("ledger:entry", args=[entry.id]) in filtered
    assert reverse("ledger:entry", args=[other.id]) not in filtered
    bad = client.get(reverse("ledger:journal"), {"posted_from": "yesterday"})
    assert bad.status_code == 200
    assert "is not a date like 2025-01-31" in bad.content.decode()


def test_entry_page_shows_lines_and_its_audit_event(entry, clerk):
    response = signed_in(clerk).get(reverse("ledger:entry", args=[entry.id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Journal entry {entry.id}" in page
    assert "March retainer" in page
    assert "ledger.entry_posted" in page
    assert "1000 Bank" in page
    assert "4000 Revenue" in page
    assert "Reverse this entry" not in page  # clerks cannot reverse
    assert signed_in(clerk).get(reverse("ledger:entry", args=[entry.id + 100])).status_code == 404


def test_supervisor_reverses_from_the_entry_page(entry, supervisor):
    client = signed_in(supervisor)
    assert "Reverse this entry" in client.get(reverse("ledger:entry", args=[entry.id])).content.decode()
    response = client.post(
        reverse("ledger:entry_reverse", args=[entry.id]),
        {"posted_on": "2025-03-20", "reason": "wrong customer"},
    )
    reversal = JournalEntry.objects.get(reversal_of=entry)
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:entry", args=[reversal.id])
    page = client.get(response["Location"]).content.decode()
    assert f"entry {entry.id}</a>" in page
    before = book_state()
    again = client.post(
        reverse("ledger:entry_reverse", args=[entry.id]), {"posted_on": "2025-03-21", "reason": "x"}
    )
    assert again.status_code == 409
    assert f"entry {entry.id} was already reversed by entry {reversal.id}" in again.content.decode()
    assert book_state() == before


def test_reversing_a_documents_entry_from_the_entry_page_is_explained_on_the_page(supervisor):
    document = post_document(
        supervisor,
        debit(RECEIVABLES, eur("119.00"), customer_id=9),
        credit(REVENUE, eur("119.00")),
        source=("tests.invoice", "7"),
    )
    before = book_state()
    refused = signed_in(supervisor).post(
        reverse("ledger:entry_reverse", args=[document.id]), {"posted_on": "2025-03-20", "reason": "wrong"}
    )
    assert refused.status_code == 409
    assert (
        f"entry {document.id} was posted by tests.invoice 7; "
        "correct that document instead of reversing its entry" in refused.content.decode()
    )
    assert book_state() == before


def test_supervisor_closes_and_reopens_from_the_periods_page(entry, supervisor):
    client = signed_in(supervisor)
    page = client.get(reverse("ledger:periods")).content.decode()
    assert "Close March 2025" in page
    closed = client.post(reverse("ledger:period_close", args=["2025-03-01"]))
    assert closed.status_code == 302
    assert AccountingPeriod.objects.get(start_on=date(2025, 3, 1)).status == PeriodStatus.CLOSED
    no_reason = client.post(reverse("ledger:period_reopen", args=["2025-03-01"]), {"reason": ""})
    assert no_reason.status_code == 400
    assert "a reason for reopening the period is required" in no_reason.content.decode()
    reopened = client.post(
        reverse("ledger:period_reopen", args=["2025-03-01"]), {"reason": "late credit note"}
    )
    assert reopened.status_code == 302
    assert AccountingPeriod.objects.get(start_on=date(2025, 3, 1)).status == PeriodStatus.OPEN
    assert AuditEvent.objects.get(action="ledger.period_reopened").after["reason"] == "late credit note"


def test_clerk_closing_from_the_page_is_refused_on_the_page(entry, clerk):
    client = signed_in(clerk)
    assert "Close March 2025" not in client.get(reverse("ledger:periods")).content.decode()
    before = book_state()
    response = client.post(reverse("ledger:period_close", args=["2025-03-01"]))
    assert response.status_code == 403
    assert "the clerk role may not do ledger.close_period" in response.content.decode()
    assert book_state() == before


def test_closing_twice_or_a_garbled_month_is_explained_on_the_page(entry, supervisor):
    close_period(start_on=date(2025, 3, 1), actor=supervisor)
    client = signed_in(supervisor)
    refused = client.post(reverse("ledger:period_close", args=["2025-03-01"]))
    assert refused.status_code == 409
    assert "the period March 2025 is already closed" in refused.content.decode()
    garbled = client.post(reverse("ledger:period_close", args=["March"]))
    assert garbled.status_code == 400
