"""The dunning pages: the policies with their levels and the form that edits one, the run page (preview,
then run), a run's notices, a notice with its letter, and a customer's dunning settings."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billops.access.models import User
from billops.collections.models import CollectionProfile, DunningNotice, DunningPolicy, DunningRun
from tests.collections.test_dunning_books import DunningBook, build_book, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    return build_book(clerk, supervisor, collector, make_user)


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def level_row(
    row: int, days: str, subject: str = "Reminder", body: str = "Pay {total}", **fields: str
) -> dict:
    values = {
        "days_after_due": days,
        "subject": subject,
        "body": body,
        "channel": "email",
        "escalation": "none",
    }
    return {f"{name}_{row}": value for name, value in (values | fields).items()}


def test_the_policies_page_shows_each_policy_with_its_levels(dunning: DunningBook) -> None:
    page = client_of(dunning.collector).get(reverse("collections:dunning_policies"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "STANDARD · Standard" in text and "default" in text
    assert text.count("<tr>") == 4  # the header and three levels
    assert '5.00 <span class="currency">EUR</span>' in text and "Credit hold" in text
    assert "New policy" not in text  # a collector reads; a supervisor manages


def test_a_supervisor_saves_a_policy_and_a_wrong_level_is_shown_at_its_row(dunning: DunningBook) -> None:
    client = client_of(dunning.supervisor)
    assert client.get(reverse("collections:dunning_policy_new")).status_code == 200
    form: dict[str, Any] = {"code": "soft", "name": "Soft", "currency": "EUR", "minimum_amount": "5"}
    form |= level_row(1, "10") | level_row(2, "30", fee_amount="3.00", fee_percent="1")

    with unchanged():
        refused = client.post(reverse("collections:dunning_policy_new"), form)
    assert refused.status_code == 200
    assert 'id="policyform-fee_percent_2-errors"' in refused.content.decode()
    assert "a level charges a fixed fee or a percentage, not both" in refused.content.decode()

    form["fee_percent_2"] = ""
    saved = client.post(reverse("collections:dunning_policy_new"), form)

    assert saved.status_code == 302
    policy = DunningPolicy.objects.get(code="SOFT")
    assert list(policy.levels.values_list("days_after_due", "fee_amount")) == [(10, 0), (30, 3)]
    edit = client.get(reverse("collections:dunning_policy", args=["soft"]))
    assert 'name="days_after_due_2" value="30"' in edit.content.decode()
    assert 'name="fee_amount_2" value="3"' in edit.content.decode()


def test_the_run_page_previews_then_runs_and_shows_the_run(dunning: DunningBook) -> None:
    dunning.on(date(2026, 2, 10))
    client = client_of(dunning.collector)
    assert client.get(reverse("collections:dunning_run")).status_code == 200

    with unchanged():
        preview = client.post(
            reverse("collections:dunning_run"), {"run_on": "2026-02-10", "action": "preview"}
        )
    text = preview.content.decode()
    assert "What a run on 2026-02-10 sends" in text and "INV-2026-000001 · level 1 · 10 days" in text
    assert "Send these 1 notices" in text

    sent = client.post(reverse("collections:dunning_run"), {"run_on": "2026-02-10", "action": "run"})

    run = DunningRun.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse(
        "collections:dunning_run_detail", args=[run.pk]
    )
    detail = client.get(sent["Location"]).content.decode()
    notice = DunningNotice.objects.get()
    assert reverse("collections:notice", args=[notice.pk]) in detail


def test_a_run_refused_says_why_and_a_clerk_may_not_run(dunning: DunningBook) -> None:
    dunning.on(date(2026, 2, 10))
    with unchanged():
        future = client_of(dunning.collector).post(
            reverse("collections:dunning_run"), {"run_on": "2026-02-11", "action": "run"}
        )
        assert "up to today (2026-02-10) at the latest" in future.content.decode()
        denied = client_of(dunning.clerk).post(
            reverse("collections:dunning_run"), {"run_on": "", "action": "run"}
        )
        assert denied.status_code == 403


def test_the_notice_page_links_its_letter_and_its_debit_note(dunning: DunningBook, auditor: User) -> None:
    for day in (date(2026, 2, 10), date(2026, 4, 14)):
        dunning.on(day)
        form = {"run_on": day.isoformat(), "action": "run"}
        client_of(dunning.collector).post(reverse("collections:dunning_run"), form)
    notice = DunningNotice.objects.get(level__number=2)
    client = client_of(auditor)  # reading is for everyone, the auditor too

    page = client.get(reverse("collections:notice", args=[notice.pk])).content.decode()

    assert reverse("collections:notice_pdf", args=[notice.pk]) in page
    assert "DN-2026-000001" in page and "Second reminder for C-DUN" in page
    assert "2026-01-31 \u2013 2026-04-14" in page  # the days the interest covers
    pdf = client.get(reverse("collections:notice_pdf", args=[notice.pk]))
    assert (pdf["Content-Type"], pdf.content[:5]) == ("application/pdf", b"%PDF-")
    assert client.get(reverse("collections:notice", args=[999999])).status_code == 404


def test_a_collector_excludes_a_customer_from_its_dunning_page(dunning: DunningBook) -> None:
    client = client_of(dunning.collector)
    url = reverse("collections:customer_dunning", args=[dunning.customer.pk])
    assert "Excluded from dunning" in client.get(url).content.decode()

    with unchanged():
        refused = client.post(url, {"excluded": "on", "reason": ""})
    assert "reason is required" in refused.content.decode()
    saved = client.post(url, {"excluded": "on", "reason": "in court"})

    assert saved.status_code == 302
    profile = CollectionProfile.objects.get(customer=dunning.customer)
    assert (profile.dunning_excluded, profile.dunning_exclusion_reason) == (True, "in court")
