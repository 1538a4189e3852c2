"""Plans with phases and subscriptions billed by the monthly runs: in advance or in arrears, trial periods
free, each period once, nothing after a cancellation at term end; bad plans and subscriptions refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, Plan, Subscription
from billops.billing.periods import Phase, periods
from billops.billing.services.execution import start_run
from billops.billing.services.runs import preview_run
from billops.billing.services.subscriptions import PhaseData, cancel_at_term_end, create_plan, subscribe
from billops.customers.models import Customer
from billops.invoicing.errors import WrongStatus
from billops.invoicing.models import Invoice
from tests.billing.test_runs import preview_rows, written_rows

pytestmark = pytest.mark.django_db

PLANS = "/billing/plans"
EVERGREEN = {"kind": "evergreen", "unit_price": "5"}


@pytest.fixture
def plans(supervisor: User, catalog: Any) -> dict[str, Plan]:
    monthly = create_plan(
        code="pro-m", name="Pro seats", product_code="LICENSE", currency="EUR", interval="month",
        timing="advance", actor=supervisor,
        phases=[PhaseData("trial", "0", 1), PhaseData("introductory", "10", 2), PhaseData("evergreen", "20")],
    )  # fmt: skip
    quarterly = create_plan(
        code="USE-Q", name="Support", product_code="CONSULT", currency="EUR", interval="quarter",
        timing="arrears", actor=supervisor, phases=[PhaseData("evergreen", "100")],
    )  # fmt: skip
    return {"monthly": monthly, "quarterly": quarterly}


def run_month(period: str, actor: User) -> list[tuple[str, Decimal, date, date]]:
    """Run the month and return what its invoices billed: description, net, service period."""
    month, year = int(period[5:]), int(period[:4])
    invoice_date = date(year + month // 12, month % 12 + 1, 1)
    run = start_run(period=period, actor=actor, invoice_date=invoice_date)
    invoices = Invoice.objects.filter(pk__in=BilledItem.objects.filter(run=run).values("invoice_id"))
    return [
        (line.description, line.net, line.service_start, line.service_end)
        for invoice in invoices.order_by("pk")
        for line in invoice.lines.order_by("line_no")
    ]


def test_periods_are_billed_in_advance_or_arrears_each_once_phase_by_phase(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    seats = subscribe(
        customer_id=customer.pk, plan_code="PRO-M", quantity="3", actor=clerk, start_date=date(2026, 1, 15)
    )
    support = subscribe(
        customer_id=customer.pk, plan_code="use-q", quantity="1", actor=clerk, start_date=date(2026, 1, 1)
    )
    # January: the trial (15 Jan - 14 Feb) is free; February's introductory period is billed in advance
    assert run_month("2026-01", clerk) == [
        ("Pro seats, introductory price", Decimal("30.00"), date(2026, 2, 15), date(2026, 3, 14))
    ]
    assert run_month("2026-02", clerk) == [
        ("Pro seats, introductory price", Decimal("30.00"), date(2026, 3, 15), date(2026, 4, 14))
    ]
    # March: April's evergreen seats in advance, and the first quarter of support once it has ended
    assert run_month("2026-03", clerk) == [
        ("Support", Decimal("100.00"), date(2026, 1, 1), date(2026, 3, 31)),
        ("Pro seats", Decimal("60.00"), date(2026, 4, 15), date(2026, 5, 14)),
    ]
    assert run_month("2026-03", clerk) == []  # the same month again: every period is billed already
    assert set(BilledItem.objects.values_list("key", flat=True)) == {
        *(f"subscription:{seats.pk}:2026-{month}-15" for month in ("02", "03", "04")),
        f"subscription:{support.pk}:2026-01-01",
    }


def test_a_cancelled_subscription_is_billed_to_the_end_of_its_term_and_not_after(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    seats = subscribe(
        customer_id=customer.pk, plan_code="PRO-M", quantity="1", actor=clerk, start_date=date(2026, 1, 15)
    )
    run_month("2026-01", clerk)
    cancelled = cancel_at_term_end(
        subscription_id=seats.pk, reason="moving to a competitor", actor=clerk, on=date(2026, 2, 20)
    )
    assert (cancelled.status, cancelled.end_date) == ("cancelled", date(2026, 3, 14))
    assert run_month("2026-02", clerk) == []  # the period from 15 March starts after the end
    event = AuditEvent.objects.get(action="subscription.cancelled")
    assert event.after == {
        "status": "cancelled",
        "end_date": "2026-03-14",
        "reason": "moving to a competitor",
    }
    with pytest.raises(WrongStatus):
        cancel_at_term_end(subscription_id=seats.pk, reason="again", actor=clerk)


def test_a_subscription_cancelled_before_it_starts_is_never_billed(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    later = subscribe(
        customer_id=customer.pk, plan_code="USE-Q", quantity="1", actor=clerk, start_date=date(2026, 6, 1)
    )
    assert (
        cancel_at_term_end(
            subscription_id=later.pk, reason="signed by mistake", actor=clerk, on=date(2026, 5, 1)
        ).end_date
        is None
    )
    assert [run_month(period, clerk) for period in ("2026-05", "2026-06", "2026-08")] == [[], [], []]


def test_the_preview_of_subscriptions_is_the_run(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    subscribe(
        customer_id=customer.pk, plan_code="PRO-M", quantity="2", actor=clerk, start_date=date(2025, 11, 3)
    )
    subscribe(
        customer_id=customer.pk, plan_code="USE-Q", quantity="1", actor=clerk, start_date=date(2025, 10, 1)
    )
    expected = preview_rows(preview_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1)))
    # catching up: every period not billed yet, from the first ones on, on one invoice
    assert len(expected) == 2 + 5  # two quarters of support, five months of seats after the trial
    run = start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    assert written_rows(run) == expected


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"phases": []}, 400, "invalid", "phases"),
        ({"phases": [{**EVERGREEN, "periods": 3}]}, 400, "invalid", "phases.0.periods"),
        (
            {"phases": [EVERGREEN, {"kind": "trial", "unit_price": "0"}]},
            400, "invalid", "phases.0.periods",
        ),
        ({"phases": [{"kind": "trial", "unit_price": "1", "periods": 1}, EVERGREEN]}, 400, "invalid",
         "phases.0.unit_price"),
        ({"phases": [{**EVERGREEN, "unit_price": "-5"}]}, 400, "invalid_amount", "phases.0.unit_price"),
        ({"interval": "fortnight"}, 422, "invalid", "interval"),
        ({"product_code": "NOPE"}, 404, "not_found", "product_code"),
        ({"currency": "XXY"}, 400, "unknown_currency", "currency"),
        ({"code": "PRO-M"}, 409, "duplicate", "code"),
    ],
)  # fmt: skip
def test_a_bad_plan_is_refused_naming_the_field(
    api_as: Callable[..., Any], supervisor: User, plans: dict[str, Plan], change: dict[str, Any],
    status: int, code: str, field: str,
) -> None:  # fmt: skip
    api = api_as(supervisor)
    body = {"code": "NEW", "name": "New", "product_code": "LICENSE", "currency": "EUR", "interval": "month",
            "timing": "advance", "phases": [{"kind": "evergreen", "unit_price": "5"}], **change}  # fmt: skip
    before = (Plan.objects.count(), AuditEvent.objects.count())
    response = api.post(PLANS, body)
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (status, code, field)
    assert (Plan.objects.count(), AuditEvent.objects.count()) == before


def test_plans_and_subscriptions_over_the_api(
    api_as: Callable[..., Any],
    clerk: User,
    supervisor: User,
    customer: Customer,
    make_user: Callable[..., User],
) -> None:
    body = {
        "code": "basic", "name": "Basic", "product_code": "LICENSE", "currency": "EUR", "interval": "year",
        "timing": "advance", "phases": [{"kind": "evergreen", "unit_price": "499"}],
    }  # fmt: skip
    assert api_as(clerk).post(PLANS, body).status_code == 403  # plans are the supervisor's
    plan = api_as(supervisor).post(PLANS, body).json()
    assert (plan["code"], plan["interval"], plan["phases"]) == (
        "BASIC", "year", [{"position": 1, "kind": "evergreen", "periods": None, "unit_price": "499.00"}]
    )  # fmt: skip
    api = api_as(clerk)
    made = api.post(
        "/billing/subscriptions",
        {"customer_id": customer.pk, "plan_code": "BASIC", "start_date": "2026-02-01"},
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["plan_code"], made.json()["quantity"], made.json()["status"]) == (
        "BASIC",
        "1",
        "active",
    )
    for bad, field in (({"quantity": "0"}, "quantity"), ({"plan_code": "NOPE"}, "plan_code"),
                       ({"start_date": "1999-01-01"}, "start_date")):  # fmt: skip
        refused = api.post(
            "/billing/subscriptions", {"customer_id": customer.pk, "plan_code": "BASIC", **bad}
        )
        assert refused.json()["field"] == field
    assert Subscription.objects.count() == 1
    cancelled = api.post(f"/billing/subscriptions/{made.json()['id']}/cancel", {"reason": "budget"}).json()
    assert (cancelled["status"], cancelled["end_date"]) == ("cancelled", "2027-01-31")
    collector = api_as(make_user(Role.COLLECTOR))
    assert collector.get("/billing/subscriptions", status="cancelled").json()["count"] == 1
    assert (
        collector.post(
            "/billing/subscriptions", {"customer_id": customer.pk, "plan_code": "BASIC"}
        ).status_code
        == 403
    )


def test_periods_keep_their_day_through_short_months_and_phases_follow_each_other() -> None:
    phases = [
        Phase("trial", 1, Decimal(0)),
        Phase("introductory", 2, Decimal(10)),
        Phase("evergreen", None, Decimal(20)),
    ]
    found = list(periods(start=date(2026, 1, 31), interval_months=1, phases=phases, until=date(2026, 5, 31)))
    assert [(period.start, period.end, period.phase.kind) for period in found] == [
        (date(2026, 1, 31), date(2026, 2, 27), "trial"),
        (date(2026, 2, 28), date(2026, 3, 30), "introductory"),
        (date(2026, 3, 31), date(2026, 4, 29), "introductory"),
        (date(2026, 4, 30), date(2026, 5, 30), "evergreen"),
        (date(2026, 5, 31), date(2026, 6, 29), "evergreen"),
    ]
    ended = periods(
        start=date(2026, 1, 1),
        interval_months=3,
        phases=phases[2:],
        until=date(2027, 1, 1),
        end=date(2026, 6, 30),
    )
    assert [period.end for period in ended] == [date(2026, 3, 31), date(2026, 6, 30)]
