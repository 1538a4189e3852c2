"""The payment plan API under /api/v1/collections/plans/: agree, read the schedule, list, cancel, evaluate."""

from __future__ import annotations

from datetime import date

import pytest

from billops.collections.models import PaymentPlan
from tests.collections.test_dunning_books import DunningBook, build_book, unchanged

pytestmark = pytest.mark.django_db

BASE = "/collections/plans"


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    book = build_book(clerk, supervisor, collector, make_user)
    book.on(date(2026, 2, 15))
    return book


def test_a_plan_is_agreed_read_listed_and_cancelled(dunning: DunningBook, api_as) -> None:
    api = api_as(dunning.collector)
    body = {
        "customer_id": dunning.customer.pk, "invoice_ids": [dunning.invoice.pk],
        "equal": {"count": 3, "first_due_on": "2026-03-01"}, "grace_days": 3,
    }  # fmt: skip

    made = api.post(BASE, body)

    assert made.status_code == 201, made.json()
    plan = made.json()
    assert (plan["status"], plan["total"], plan["paid"], plan["left"], plan["grace_days"]) == (
        "active", "1000.00", "0.00", "1000.00", 3,
    )  # fmt: skip
    assert [(i["number"], i["due_on"], i["amount"], i["status"]) for i in plan["instalments"]] == [
        (1, "2026-03-01", "333.33", "due"),
        (2, "2026-04-01", "333.33", "due"),
        (3, "2026-05-01", "333.34", "due"),
    ]  # fmt: skip
    assert plan["items"] == [
        {
            "invoice_id": dunning.invoice.pk,
            "number": "INV-2026-000001",
            "amount": "1000.00",
            "open_amount": "1000.00",
        }
    ]
    assert api.get(f"{BASE}/{plan['id']}").json() == plan
    assert [
        p["id"] for p in api.get(BASE, customer_id=dunning.customer.pk, status="active").json()["items"]
    ] == [plan["id"]]

    cancelled = api.post(f"{BASE}/{plan['id']}/cancel", {"reason": "new terms"})
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "new terms")
    assert api.post(f"{BASE}/{plan['id']}/cancel", {"reason": "again"}).status_code == 409


def test_a_custom_plan_that_does_not_add_up_is_refused_naming_instalments(
    dunning: DunningBook, api_as
) -> None:
    api = api_as(dunning.collector)
    custom = [{"due_on": "2026-03-01", "amount": "600.00"}, {"due_on": "2026-04-01", "amount": "300.00"}]
    base = {"customer_id": dunning.customer.pk, "invoice_ids": [dunning.invoice.pk]}
    with unchanged():
        short = api.post(BASE, {**base, "custom": custom})
        assert (short.status_code, short.json()["field"]) == (400, "instalments")
        assert short.json()["message"] == (
            "the instalments add up to 900.00 EUR, not to the 1000.00 EUR the invoices have open"
        )
        neither = api.post(BASE, base)
        assert (neither.status_code, neither.json()["field"]) == (400, "instalments")
        as_float = api.post(BASE, {**base, "custom": [{"due_on": "2026-03-01", "amount": 1000.5}]})
        assert as_float.status_code == 422
    made = api.post(
        BASE, {**base, "custom": [custom[0], {"due_on": "2026-04-01", "amount": "400"}], "fee": "10"}
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["total"], made.json()["charges_note"]) == ("1010.00", "DN-2026-000001")
    assert [i["amount"] for i in made.json()["instalments"]] == ["606.00", "404.00"]


def test_evaluate_marks_instalments_and_decides_plans(dunning: DunningBook, api_as) -> None:
    api = api_as(dunning.collector)
    body = {"customer_id": dunning.customer.pk, "invoice_ids": [dunning.invoice.pk],
            "equal": {"count": 2, "first_due_on": "2026-03-01"}}  # fmt: skip
    plan_id = api.post(BASE, body).json()["id"]
    dunning.on(date(2026, 3, 2))

    counts = api.post(f"{BASE}/evaluate", {})

    assert counts.json() == {"evaluated": 1, "paid": 0, "missed": 1, "completed": 0, "defaulted": 1}
    assert PaymentPlan.objects.get(pk=plan_id).status == "defaulted"
    assert api_as(dunning.clerk).post(f"{BASE}/evaluate", {}).status_code == 403
