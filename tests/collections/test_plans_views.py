"""The payment plan pages: agreeing a plan from a customer (equal or row by row), the plan with its schedule,
cancelling it, the list, and checking the active plans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from billops.access.models import User
from billops.collections.models import Instalment, PaymentPlan
from tests.collections.test_dunning_books import DunningBook, build_book, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    book = build_book(clerk, supervisor, collector, make_user)
    book.on(date(2026, 2, 15))
    return book


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_collector_agrees_equal_instalments_and_sees_the_schedule(dunning: DunningBook) -> None:
    client = client_of(dunning.collector)
    url = reverse("collections:new_plan", args=[dunning.customer.pk])
    form = client.get(url).content.decode()
    assert f'name="invoice" value="{dunning.invoice.pk}"' in form and "INV-2026-000001" in form

    made = client.post(url, {"invoice": [dunning.invoice.pk], "kind": "equal", "count": "3",
                             "first_due_on": "2026-03-01", "every": "1", "unit": "months"})  # fmt: skip

    plan = PaymentPlan.objects.get()
    assert made.status_code == 302 and made["Location"] == reverse("collections:plan", args=[plan.pk])
    page = client.get(made["Location"]).content.decode()
    assert page.count("333.33") == 4 and "333.34" in page and "2026-05-01" in page  # amount and left
    assert "Cancel plan" in page
    listed = client.get(reverse("collections:plans")).content.decode()
    assert reverse("collections:plan", args=[plan.pk]) in listed


def test_rows_that_do_not_add_up_are_shown_with_the_error_and_nothing_is_agreed(dunning: DunningBook) -> None:
    client = client_of(dunning.collector)
    url = reverse("collections:new_plan", args=[dunning.customer.pk])
    rows = {"due_on_1": "2026-03-01", "amount_1": "600.00", "due_on_2": "2026-04-01", "amount_2": "300.00"}

    with unchanged():
        refused = client.post(url, {"invoice": [dunning.invoice.pk], "kind": "custom", **rows})
    assert refused.status_code == 200
    assert "the instalments add up to 900.00 EUR, not to the 1000.00 EUR the invoices have open" in (
        refused.content.decode()
    )
    with unchanged():
        past = client.post(
            url, {"invoice": [dunning.invoice.pk], "kind": "custom", **rows, "due_on_1": "2026-02-01"}
        )
    assert (
        'id="planform-due_on_1-errors"' not in past.content.decode()
    )  # custom rows show errors in their cell
    assert "instalment 1 falls due today or later, not on 2026-02-01" in past.content.decode()

    rows["amount_2"] = "400.00"
    assert client.post(url, {"invoice": [dunning.invoice.pk], "kind": "custom", **rows}).status_code == 302
    assert list(Instalment.objects.order_by("number").values_list("amount", flat=True)) == [
        Decimal("600.00"), Decimal("400.00"),
    ]  # fmt: skip


def test_a_plan_is_cancelled_from_its_page_and_the_active_ones_are_checked(dunning: DunningBook) -> None:
    client = client_of(dunning.collector)
    client.post(reverse("collections:new_plan", args=[dunning.customer.pk]), {
        "invoice": [dunning.invoice.pk], "kind": "equal", "count": "2", "first_due_on": "2026-03-01",
    })  # fmt: skip
    plan = PaymentPlan.objects.get()

    with unchanged():
        refused = client.post(reverse("collections:cancel_plan", args=[plan.pk]), {"reason": ""})
    assert "reason is required" in refused.content.decode()
    client.post(reverse("collections:cancel_plan", args=[plan.pk]), {"reason": "paid by a parent company"})

    plan.refresh_from_db()
    assert (plan.status, plan.cancel_reason) == ("cancelled", "paid by a parent company")
    checked = client.post(reverse("collections:evaluate_plans"), follow=True)
    assert "0 active plans checked" in checked.content.decode()
    assert client_of(dunning.clerk).get(reverse("collections:plan", args=[plan.pk])).status_code == 200
    assert client.get(reverse("collections:plan", args=[999999])).status_code == 404
