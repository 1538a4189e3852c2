"""Subscription changes from a date: quantity and plan changes, pauses, resumes and immediate
cancellations, prorated by actual days. A change into a period not invoiced yet cuts the period at the
change; one into an invoiced period is credited by a credit note on the line that billed it and charged
anew on the next run's invoice. Every run's preview is the run; a month run twice bills nothing new."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, Plan, ProratedCharge, Subscription, SubscriptionChange
from billops.billing.services.billables import share_amount
from billops.billing.services.execution import start_run
from billops.billing.services.runs import preview_run
from billops.billing.services.subscriptions import (
    PhaseData,
    cancel_at_term_end,
    cancel_immediately,
    change_subscription,
    create_plan,
    pause_subscription,
    resume_subscription,
    subscribe,
)
from billops.core.errors import CurrencyMismatch, DomainError, InvalidInput, NotFound
from billops.customers.models import Customer
from billops.invoicing.models import DocumentType, Invoice
from tests.billing.test_runs import preview_rows, written_rows

pytestmark = pytest.mark.django_db

Line = tuple[str, Decimal, Decimal, Decimal, date, date]  # description, quantity, unit price, net, service


@pytest.fixture
def plans(supervisor: User, catalog: Any) -> dict[str, Plan]:
    """Monthly seats at 30 and 60 in advance (one with a free first month), support at 31 and 62 in
    arrears, seats billed quarterly, and seats in US dollars."""
    made = {}
    for code, name, price, interval, timing, currency, trial in (
        ("BASIC", "Basic seats", "30", "month", "advance", "EUR", False),
        ("PLUS", "Plus seats", "60", "month", "advance", "EUR", False),
        ("TRY", "Trial seats", "30", "month", "advance", "EUR", True),
        ("SUPPORT", "Support", "31", "month", "arrears", "EUR", False),
        ("SUPPORT-PLUS", "Support plus", "62", "month", "arrears", "EUR", False),
        ("BASIC-Q", "Basic seats quarterly", "90", "quarter", "advance", "EUR", False),
        ("BASIC-USD", "Basic seats in dollars", "30", "month", "advance", "USD", False),
    ):
        phases = [PhaseData("trial", "0", 1)] if trial else []
        made[code] = create_plan(
            code=code, name=name, product_code="LICENSE", currency=currency, interval=interval, timing=timing,
            phases=[*phases, PhaseData("evergreen", price)], actor=supervisor,
        )  # fmt: skip
    return made


def today(day: date) -> None:
    """Move the test clock: changes and credit notes are dated by it."""
    set_business_date(on=day, actor=None)


def run_month(period: str, actor: User) -> list[Line]:
    """Run the month on the first of the next (its preview first, which must be the run) and return the
    lines its invoices billed."""
    year, month = int(period[:4]), int(period[5:])
    invoice_date = date(year + month // 12, month % 12 + 1, 1)
    today(invoice_date)
    expected = preview_rows(preview_run(period=period, actor=actor, invoice_date=invoice_date))
    run = start_run(period=period, actor=actor, invoice_date=invoice_date)
    assert written_rows(run) == expected
    invoices = Invoice.objects.filter(pk__in=BilledItem.objects.filter(run=run).values("invoice_id"))
    return [
        (line.description, line.quantity, line.unit_price, line.net, line.service_start, line.service_end)
        for invoice in invoices.order_by("pk")
        for line in invoice.lines.order_by("line_no")
    ]


def line(description: str, quantity: str, price: str, net: str, start: str, end: str) -> Line:
    return (
        description, Decimal(quantity), Decimal(price), Decimal(net), date.fromisoformat(start),
        date.fromisoformat(end),
    )  # fmt: skip


def credit_notes() -> list[tuple[str, Decimal, Decimal, list[tuple[int, Decimal]]]]:
    """Each credit note: the invoice it credits, its net and total, and the credited line numbers and nets."""
    notes = Invoice.objects.filter(document_type=DocumentType.CREDIT_NOTE).order_by("pk")
    return [
        (
            note.original.number, note.subtotal, note.total,
            [(credit.credits_line.line_no, credit.net) for credit in note.lines.order_by("line_no")],
        )
        for note in notes
    ]  # fmt: skip


def invoice_of(key: str) -> str:
    return BilledItem.objects.get(key=key).invoice.number


def seats(
    customer: Customer, clerk: User, plan: str = "BASIC", quantity: str = "2", **more: Any
) -> Subscription:
    return subscribe(
        customer_id=customer.pk, plan_code=plan, quantity=quantity, actor=clerk,
        start_date=more.pop("start_date", date(2026, 1, 1)), **more,
    )  # fmt: skip


def test_an_upgrade_into_an_invoiced_period_billed_in_advance_is_credited_and_charged_by_actual_days(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    subscription = seats(customer, clerk)
    assert run_month("2025-12", clerk) == [
        line("Basic seats", "2", "30", "60.00", "2026-01-01", "2026-01-31")
    ]
    today(date(2026, 1, 20))
    change = change_subscription(
        subscription_id=subscription.pk, plan_code="plus", effective_on=date(2026, 1, 20), actor=clerk
    )
    # 12 of January's 31 days: 60.00 x 12/31 = 23.2258 credited, 120.00 x 12/31 = 46.4516 charged
    january = invoice_of(f"subscription:{subscription.pk}:2026-01-01")
    assert credit_notes() == [(january, Decimal("23.23"), Decimal("27.64"), [(1, Decimal("23.23"))])]
    assert Invoice.objects.get(number=january).open_amount == Decimal("71.40") - Decimal("27.64")
    assert run_month("2026-01", clerk) == [
        line("Plus seats: 2 x 60.00 for 12 of 31 days", "1", "46.45", "46.45", "2026-01-20", "2026-01-31"),
        line("Plus seats", "2", "60", "120.00", "2026-02-01", "2026-02-28"),
    ]  # fmt: skip
    assert run_month("2026-01", clerk) == []  # the same month again
    assert BilledItem.objects.filter(key=f"subscription_change:{change.pk}:2026-01-01").exists()
    event = AuditEvent.objects.get(action="subscription.changed")
    assert (event.actor_id, event.before, event.after) == (
        clerk.pk,
        {"plan": "BASIC", "quantity": "2.0000", "status": "active"},
        {
            "change_id": change.pk, "kind": "plan", "effective_on": "2026-01-20", "plan": "PLUS",
            "quantity": "2.0000", "status": "active", "reason": "",
            "credit_notes": [[Invoice.objects.get(document_type="credit_note").number, "23.23"]],
            "prorated_charges": [["2026-01-01", "46.45"]],
        },
    )  # fmt: skip
    assert (Subscription.objects.get().plan.code, change.old_plan.code, change.new_quantity) == (
        "PLUS", "BASIC", Decimal(2)
    )  # fmt: skip


def test_a_downgrade_and_a_quantity_change_credit_the_old_share_and_charge_the_new(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    subscription = seats(customer, clerk, plan="PLUS", quantity="1")
    run_month("2025-12", clerk)
    today(date(2026, 1, 20))
    change_subscription(
        subscription_id=subscription.pk, plan_code="BASIC", effective_on=date(2026, 1, 20), actor=clerk
    )
    # 60.00 x 12/31 = 23.2258 credited; 30.00 x 12/31 = 11.6129 charged
    assert run_month("2026-01", clerk) == [
        line("Basic seats: 1 x 30.00 for 12 of 31 days", "1", "11.61", "11.61", "2026-01-20", "2026-01-31"),
        line("Basic seats", "1", "30", "30.00", "2026-02-01", "2026-02-28"),
    ]  # fmt: skip
    today(date(2026, 2, 10))
    change_subscription(
        subscription_id=subscription.pk, quantity="5", effective_on=date(2026, 2, 10), actor=clerk
    )
    # 19 of February's 28 days: 1 x 30.00 x 19/28 = 20.3571 credited, 5 x 30.00 x 19/28 = 101.7857 charged
    assert [(note[1], note[3]) for note in credit_notes()] == [
        (Decimal("23.23"), [(1, Decimal("23.23"))]),
        (Decimal("20.36"), [(2, Decimal("20.36"))]),
    ]
    assert run_month("2026-02", clerk) == [
        line("Basic seats: 5 x 30.00 for 19 of 28 days", "1", "101.79", "101.79", "2026-02-10", "2026-02-28"),
        line("Basic seats", "5", "30", "150.00", "2026-03-01", "2026-03-31"),
    ]  # fmt: skip
    assert list(SubscriptionChange.objects.values_list("kind", "old_quantity", "new_quantity")) == [
        ("plan", Decimal(1), Decimal(1)),
        ("quantity", Decimal(1), Decimal(5)),
    ]


def test_a_period_billed_in_arrears_is_billed_split_at_the_change(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    support = seats(customer, clerk, plan="SUPPORT", quantity="1")
    today(date(2026, 1, 11))
    change = change_subscription(subscription_id=support.pk, quantity="3", actor=clerk)
    assert (change.effective_on, credit_notes(), ProratedCharge.objects.count()) == (date(2026, 1, 11), [], 0)
    # 10 days at 1 x 31.00 and 21 days at 3 x 31.00 of January's 31
    assert run_month("2026-01", clerk) == [
        line("Support: 1 x 31.00 for 10 of 31 days", "1", "10.00", "10.00", "2026-01-01", "2026-01-10"),
        line("Support: 3 x 31.00 for 21 of 31 days", "1", "63.00", "63.00", "2026-01-11", "2026-01-31"),
    ]  # fmt: skip
    assert set(BilledItem.objects.values_list("key", flat=True)) == {
        f"subscription:{support.pk}:2026-01-01",
        f"subscription:{support.pk}:2026-01-01:{change.pk}",
    }
    assert run_month("2026-01", clerk) == []
    assert run_month("2026-02", clerk) == [line("Support", "3", "31", "93.00", "2026-02-01", "2026-02-28")]


def test_a_plan_change_back_dated_into_an_invoiced_period_is_credited_and_charged_exactly(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    support = seats(customer, clerk, plan="SUPPORT", quantity="1")
    assert run_month("2026-01", clerk) == [line("Support", "1", "31", "31.00", "2026-01-01", "2026-01-31")]
    today(date(2026, 2, 10))
    change_subscription(
        subscription_id=support.pk, plan_code="SUPPORT-PLUS", effective_on=date(2026, 1, 11), actor=clerk,
        reason="upgrade signed on 11 January",
    )  # fmt: skip
    # 21 of January's 31 days: 31.00 x 21/31 = 21.00 credited, 62.00 x 21/31 = 42.00 charged
    january = invoice_of(f"subscription:{support.pk}:2026-01-01")
    assert credit_notes() == [(january, Decimal("21.00"), Decimal("24.99"), [(1, Decimal("21.00"))])]
    assert Invoice.objects.get(document_type="credit_note").issued_on == date(2026, 2, 10)
    assert run_month("2026-02", clerk) == [
        line("Support plus: 1 x 62.00 for 21 of 31 days", "1", "42.00", "42.00", "2026-01-11", "2026-01-31"),
        line("Support plus", "1", "62", "62.00", "2026-02-01", "2026-02-28"),
    ]  # fmt: skip
    # a second change into the same invoiced period credits the prorated charge's line, not January's again
    today(date(2026, 3, 2))
    change_subscription(subscription_id=support.pk, quantity="2", effective_on=date(2026, 2, 15), actor=clerk)
    change_subscription(subscription_id=support.pk, quantity="3", effective_on=date(2026, 2, 22), actor=clerk)
    # February: 14 of 28 days at 1 x 62 credited (31.00) and charged again at 2 x 62 (62.00); the second
    # change cuts that charge, not billed yet, to 7 days (31.00) and charges 7 days at 3 x 62 (46.50)
    assert [(note[1], note[3]) for note in credit_notes()] == [
        (Decimal("21.00"), [(1, Decimal("21.00"))]),
        (Decimal("31.00"), [(2, Decimal("31.00"))]),
    ]
    assert run_month("2026-03", clerk) == [
        line("Support plus: 2 x 62.00 for 7 of 28 days", "1", "31.00", "31.00", "2026-02-15", "2026-02-21"),
        line("Support plus: 3 x 62.00 for 7 of 28 days", "1", "46.50", "46.50", "2026-02-22", "2026-02-28"),
        line("Support plus", "3", "62", "186.00", "2026-03-01", "2026-03-31"),
    ]  # fmt: skip


def test_a_change_in_a_trial_period_costs_nothing(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    trial = seats(customer, clerk, plan="TRY", quantity="1")
    assert run_month("2025-12", clerk) == []  # January is the free trial
    today(date(2026, 1, 15))
    change_subscription(subscription_id=trial.pk, quantity="4", actor=clerk)
    assert (credit_notes(), ProratedCharge.objects.count()) == ([], 0)
    assert run_month("2026-01", clerk) == [
        line("Trial seats", "4", "30", "120.00", "2026-02-01", "2026-02-28")
    ]


def test_a_pause_credits_the_invoiced_paused_days_and_a_resume_bills_from_its_day_keeping_the_dates(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    subscription = seats(customer, clerk, quantity="1")
    run_month("2025-12", clerk)
    run_month("2026-01", clerk)
    today(date(2026, 2, 10))
    pause_subscription(
        subscription_id=subscription.pk, effective_on=date(2026, 2, 15), actor=clerk, reason="closed"
    )
    # 14 of February's 28 days: 30.00 x 14/28 = 15.00 credited, nothing charged
    assert [note[1] for note in credit_notes()] == [Decimal("15.00")]
    assert Subscription.objects.get().status == "paused"
    assert run_month("2026-02", clerk) == []  # March, paused
    today(date(2026, 3, 5))
    resume_subscription(subscription_id=subscription.pk, effective_on=date(2026, 3, 11), actor=clerk)
    assert Subscription.objects.get().status == "active"
    # the periods keep their dates: 21 of March's 31 days, 30.00 x 21/31 = 20.3226, then April
    assert run_month("2026-03", clerk) == [
        line("Basic seats: 1 x 30.00 for 21 of 31 days", "1", "20.32", "20.32", "2026-03-11", "2026-03-31"),
        line("Basic seats", "1", "30", "30.00", "2026-04-01", "2026-04-30"),
    ]  # fmt: skip
    events = AuditEvent.objects.filter(action__in=["subscription.paused", "subscription.resumed"])
    assert [(event.action, event.after["effective_on"]) for event in events.order_by("pk")] == [
        ("subscription.paused", "2026-02-15"),
        ("subscription.resumed", "2026-03-11"),
    ]


def test_cancelling_at_once_credits_every_invoiced_day_after_the_last_exactly(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    subscription = seats(customer, clerk)
    run_month("2025-12", clerk)
    run_month("2026-01", clerk)
    run_month("2026-02", clerk)  # March, in advance
    today(date(2026, 3, 2))
    change = cancel_immediately(
        subscription_id=subscription.pk, on=date(2026, 2, 20), reason="insolvent", actor=clerk
    )
    # 8 of February's 28 days at 60.00 (17.1429) and all of March (60.00), each on the invoice that billed it
    february = invoice_of(f"subscription:{subscription.pk}:2026-02-01")
    march = invoice_of(f"subscription:{subscription.pk}:2026-03-01")
    assert credit_notes() == [
        (february, Decimal("17.14"), Decimal("20.40"), [(1, Decimal("17.14"))]),
        (march, Decimal("60.00"), Decimal("71.40"), [(1, Decimal("60.00"))]),
    ]
    cancelled = Subscription.objects.get()
    assert (cancelled.status, cancelled.end_date, cancelled.cancel_reason, change.effective_on) == (
        "cancelled", date(2026, 2, 20), "insolvent", date(2026, 2, 21)
    )  # fmt: skip
    assert run_month("2026-03", clerk) == []
    event = AuditEvent.objects.get(action="subscription.cancelled")
    assert (
        event.after["end_date"] if "end_date" in event.after else event.after["effective_on"]
    ) == "2026-02-21"
    assert [note[0] for note in event.after["credit_notes"]] == list(
        Invoice.objects.filter(document_type="credit_note").order_by("pk").values_list("number", flat=True)
    )


def test_cancelling_at_once_before_anything_was_invoiced_bills_the_days_served(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    subscription = seats(customer, clerk, quantity="1")
    today(date(2026, 1, 5))
    cancel_immediately(subscription_id=subscription.pk, reason="trial of the product only", actor=clerk)
    # served 1 to 5 January: 30.00 x 5/31 = 4.8387
    assert run_month("2025-12", clerk) == [
        line("Basic seats: 1 x 30.00 for 5 of 31 days", "1", "4.84", "4.84", "2026-01-01", "2026-01-05")
    ]
    assert (credit_notes(), run_month("2026-01", clerk)) == ([], [])


def test_share_amounts_count_actual_days_and_round_once() -> None:
    assert share_amount(Decimal("30"), Decimal("2"), 12, 31, "EUR") == Decimal("23.23")
    assert share_amount(Decimal("0.125"), Decimal("3"), 1, 30, "EUR") == Decimal("0.01")
    assert share_amount(Decimal("1000"), Decimal("1"), 29, 29, "JPY") == Decimal("1000")
    assert share_amount(Decimal("365"), Decimal("1"), 1, 366, "EUR") == Decimal("1.00")  # 0.9973


def state() -> tuple[Any, ...]:
    return (
        list(Subscription.objects.values_list("plan__code", "quantity", "status", "end_date")),
        SubscriptionChange.objects.count(), ProratedCharge.objects.count(),
        Invoice.objects.count(), AuditEvent.objects.count(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "error", "field"),
    [
        (
            {"quantity": "3", "effective_on": date(2025, 12, 31)},
            InvalidInput,
            "effective_on",
        ),  # before the start
        (
            {"quantity": "3", "effective_on": date(2026, 1, 10)},
            InvalidInput,
            "effective_on",
        ),  # before the last change
        ({"quantity": "2"}, InvalidInput, "quantity"),  # nothing changes
        ({"quantity": "0"}, DomainError, "quantity"),
        ({"plan_code": "NOPE"}, NotFound, "plan_code"),
        ({"plan_code": "BASIC-USD"}, CurrencyMismatch, "plan_code"),
        ({"plan_code": "BASIC-Q"}, InvalidInput, "plan_code"),  # another interval: other periods
        ({"plan_code": "SUPPORT"}, InvalidInput, "plan_code"),  # in arrears, not in advance
    ],
)
def test_a_bad_change_is_refused_naming_the_field_and_changes_nothing(
    clerk: User, customer: Customer, plans: dict[str, Plan], action: dict[str, Any], error: type, field: str
) -> None:
    subscription = seats(customer, clerk)
    run_month("2025-12", clerk)
    today(date(2026, 1, 20))
    change_subscription(
        subscription_id=subscription.pk, quantity="4", effective_on=date(2026, 1, 15), actor=clerk
    )
    change_subscription(
        subscription_id=subscription.pk, quantity="2", effective_on=date(2026, 1, 15), actor=clerk
    )
    before = state()
    with pytest.raises(error) as refused:
        change_subscription(subscription_id=subscription.pk, actor=clerk, **action)
    assert refused.value.field == field
    assert state() == before


def test_a_paused_cancelled_or_ended_subscription_refuses_changes(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    paused, ending, cancelled = (seats(customer, clerk) for _ in range(3))
    today(date(2026, 1, 10))
    pause_subscription(subscription_id=paused.pk, actor=clerk)
    cancel_at_term_end(subscription_id=ending.pk, reason="budget", actor=clerk)  # ends 31 January
    cancel_immediately(subscription_id=cancelled.pk, reason="budget", actor=clerk)
    before = state()
    early, first = date(2026, 1, 9), date(2025, 12, 1)
    for refused_action, field in (
        (lambda: change_subscription(subscription_id=paused.pk, quantity="3", actor=clerk), "status"),
        (lambda: pause_subscription(subscription_id=paused.pk, actor=clerk), "status"),
        (lambda: resume_subscription(subscription_id=paused.pk,
 effective_on=early, actor=clerk), "effective_on"),
        (lambda: resume_subscription(subscription_id=cancelled.pk, actor=clerk), "status"),
        (lambda: change_subscription(subscription_id=cancelled.pk, quantity="3", actor=clerk), "status"),
        (lambda: cancel_immediately(subscription_id=cancelled.pk, reason="again", actor=clerk), "status"),
        (lambda: change_subscription(subscription_id=ending.pk, quantity="3", actor=clerk), "status"),
        (lambda: change_subscription(subscription_id=9999, quantity="3", actor=clerk), "subscription_id"),
        (lambda: cancel_immediately(subscription_id=paused.pk, reason="", actor=clerk), "reason"),
        (lambda: cancel_immediately(subscription_id=paused.pk, reason="x", on=first, actor=clerk), "on"),
    ):  # fmt: skip
        with pytest.raises(DomainError) as refused:
            refused_action()
        assert refused.value.field == field, refused.value.message
    assert state() == before


def test_changes_over_the_api(
    api_as: Callable[..., Any], clerk: User, customer: Customer, plans: dict[str, Plan],
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    subscription = seats(customer, clerk)
    api = api_as(clerk)
    path = f"/billing/subscriptions/{subscription.pk}"
    today(date(2026, 1, 10))
    made = api.post(f"{path}/changes", {"quantity": "3", "effective_on": "2026-01-10", "reason": "hired"})
    assert made.status_code == 201, made.json()
    assert {key: made.json()[key] for key in ("kind", "effective_on", "old_quantity", "new_quantity")} == {
        "kind": "quantity", "effective_on": "2026-01-10", "old_quantity": "2", "new_quantity": "3"
    }  # fmt: skip
    refused = api.post(f"{path}/changes", {"plan_code": "BASIC-Q"})
    assert (refused.status_code, refused.json()["field"]) == (400, "plan_code")
    assert api.post(f"{path}/pause", {"effective_on": "2026-01-20"}).json()["kind"] == "pause"
    assert api.get(path).json()["status"] == "paused"
    assert api.post(f"{path}/resume", {"effective_on": "2026-02-01"}).json()["kind"] == "resume"
    ended = api.post(f"{path}/cancel-now", {"reason": "closed", "on": "2026-02-14"})
    assert (ended.status_code, ended.json()["effective_on"]) == (201, "2026-02-15")
    assert (api.get(path).json()["status"], api.get(path).json()["end_date"]) == ("cancelled", "2026-02-14")
    changes = api.get(f"{path}/changes").json()
    assert [change["kind"] for change in changes["items"]] == ["quantity", "pause", "resume", "cancel"]
    assert api.get("/billing/subscriptions/9999/changes").status_code == 404
    collector = api_as(make_user(Role.COLLECTOR))
    assert collector.post(f"{path}/changes", {"quantity": "5"}).status_code == 403
    assert collector.get(f"{path}/changes").json()["count"] == 4
