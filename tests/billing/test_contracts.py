"""Contracts: their subscriptions take the contract's prices escalated on each anniversary, a billing
period below the minimum commitment is trued up, a contract renews by itself at the end of its term or
ends with its subscriptions, and nothing after the end of an ended contract is billed or captured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, Contract, ContractPrice, Plan, Subscription
from billops.billing.services import billables
from billops.billing.services.billables import anniversaries, escalated
from billops.billing.services.contracts import (
    ContractPriceData,
    cancel_contract,
    create_contract,
    renew_contract,
)
from billops.billing.services.subscriptions import (
    PhaseData,
    change_subscription,
    contract_taking_work,
    create_plan,
    subscribe,
)
from billops.core.errors import DomainError
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from tests.billing.test_subscription_changes import credit_notes, line, run_month, today
from tests.invoicing.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(supervisor: User, catalog: Any) -> dict[str, Plan]:
    """Seats monthly in advance at 30, support monthly in arrears at 31, seats yearly in advance at 300."""
    return {
        code: create_plan(
            code=code, name=name, product_code="LICENSE", currency="EUR", interval=interval, timing=timing,
            phases=[PhaseData("evergreen", price)], actor=supervisor,
        )
        for code, name, price, interval, timing in (
            ("BASIC", "Basic seats", "30", "month", "advance"),
            ("SUPPORT", "Support", "31", "month", "arrears"),
            ("BASIC-Y", "Basic seats yearly", "300", "year", "advance"),
        )
    }  # fmt: skip


def contract(customer: Customer, clerk: User, **values: Any) -> Contract:
    fields = {
        "customer_id": customer.pk, "number": "K-1", "start_date": date(2026, 1, 1), "term_months": 3,
        "frequency": "month",
    }  # fmt: skip
    return create_contract(actor=clerk, **{**fields, **values})


def on_contract(
    customer: Customer, clerk: User, plan: str, quantity: str = "1", **values: Any
) -> Subscription:
    return subscribe(
        customer_id=customer.pk, plan_code=plan, quantity=quantity, actor=clerk, contract_number="K-1",
        start_date=values.pop("start_date", date(2026, 1, 1)), **values,
    )  # fmt: skip


def test_the_contract_price_escalates_on_each_anniversary_rounded_at_each_step(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    contract(
        customer, clerk, term_months=36, frequency="year", escalation_percent="3.5", po_number="PO-77",
        prices=[ContractPriceData("basic-y", "100.07")],
    )  # fmt: skip
    seats = on_contract(customer, clerk, "BASIC-Y", quantity="2")
    assert seats.po_number == "PO-77"
    assert run_month("2025-12", clerk) == [
        line("Basic seats yearly", "2", "100.07", "200.14", "2026-01-01", "2026-12-31")
    ]
    assert run_month("2026-12", clerk) == [  # 100.07 x 1.035 = 103.57245
        line("Basic seats yearly", "2", "103.57", "207.14", "2027-01-01", "2027-12-31")
    ]
    # 103.57 x 1.035 = 107.19495: rounded after each year, not 100.07 x 1.035^2 = 107.1976
    assert run_month("2027-12", clerk) == [
        line("Basic seats yearly", "2", "107.19", "214.38", "2028-01-01", "2028-12-31")
    ]
    assert set(Invoice.objects.values_list("lines__reference", flat=True)) == {"PO PO-77"}
    assert (
        anniversaries(date(2024, 2, 29), date(2025, 2, 27)),
        anniversaries(date(2024, 2, 29), date(2025, 2, 28)),
    ) == (0, 1)
    assert escalated(Decimal("100.07"), Decimal("3.5"), 2, "EUR") == Decimal("107.19")
    assert escalated(Decimal("100.075"), Decimal(0), 5, "EUR") == Decimal(
        "100.075"
    )  # no escalation, no rounding


def test_a_period_billed_below_the_minimum_commitment_is_trued_up_once(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    k1 = contract(
        customer, clerk, start_date=date(2026, 2, 1), term_months=12, minimum_amount="100",
        commitment_product_code="CONSULT",
    )  # fmt: skip
    support = on_contract(customer, clerk, "SUPPORT", quantity="2", start_date=date(2026, 2, 1))
    assert run_month("2026-01", clerk) == []  # the contract starts in February
    description = "Minimum commitment of contract K-1: 62.00 billed of 100.00 EUR"
    assert run_month("2026-02", clerk) == [
        line("Support", "2", "31", "62.00", "2026-02-01", "2026-02-28"),
        line(description, "1", "38.00", "38.00", "2026-02-01", "2026-02-28"),
    ]
    assert run_month("2026-02", clerk) == []
    assert BilledItem.objects.filter(key=f"contract_trueup:{k1.pk}:2026-02-01").count() == 1
    today(date(2026, 3, 1))
    change_subscription(subscription_id=support.pk, quantity="4", effective_on=date(2026, 3, 1), actor=clerk)
    assert run_month("2026-03", clerk) == [line("Support", "4", "31", "124.00", "2026-03-01", "2026-03-31")]


def test_a_contract_that_renews_by_itself_renews_as_the_run_passes_its_end_and_bills_on(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    k1 = contract(
        customer, clerk, auto_renew=True, renewal_term_months=6, prices=[ContractPriceData("BASIC", "25")]
    )
    on_contract(customer, clerk, "BASIC")
    for month in ("2025-12", "2026-01", "2026-02"):
        run_month(month, clerk)
    assert Contract.objects.get().end_date == date(2026, 3, 31)
    assert run_month("2026-03", clerk) == [
        line("Basic seats", "1", "25", "25.00", "2026-04-01", "2026-04-30")
    ]
    renewed = Contract.objects.get()
    assert (renewed.status, renewed.end_date) == ("active", date(2026, 9, 30))
    event = AuditEvent.objects.get(action="contract.renewed")
    assert (event.target_id, event.before, event.after) == (
        str(k1.pk), {"end_date": "2026-03-31"}, {"end_date": "2026-09-30", "months": 6}
    )  # fmt: skip


def test_a_contract_that_does_not_renew_ends_with_its_subscriptions_and_bills_nothing_after(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    contract(customer, clerk, prices=[ContractPriceData("BASIC", "25")])
    on_contract(customer, clerk, "BASIC", quantity="2")
    on_contract(customer, clerk, "SUPPORT")
    assert run_month("2026-02", clerk)[-1] == line(
        "Basic seats", "2", "25", "50.00", "2026-03-01", "2026-03-31"
    )
    assert run_month("2026-03", clerk) == [line("Support", "1", "31", "31.00", "2026-03-01", "2026-03-31")]
    ended = Contract.objects.get()
    assert ended.status == "ended"
    assert (
        list(Subscription.objects.values_list("status", "end_date")) == [("cancelled", date(2026, 3, 31))] * 2
    )
    assert AuditEvent.objects.filter(action="contract.ended").count() == 1
    assert [run_month(month, clerk) for month in ("2026-04", "2026-05")] == [[], []]
    # nothing more is captured on it
    before = (Subscription.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DomainError) as refused:
        on_contract(customer, clerk, "BASIC", start_date=date(2026, 4, 1))
    assert (refused.value.field, refused.value.message) == (
        "contract_number", "contract K-1 ended on 2026-03-31: it takes no new work"
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        contract_taking_work("K-1", date(2026, 4, 2))
    assert refused.value.field == "contract_number"
    assert (Subscription.objects.count(), AuditEvent.objects.count()) == before


def test_a_contract_whose_term_ran_out_bills_nothing_after_its_end_before_any_run_ended_it(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    contract(customer, clerk)
    on_contract(customer, clerk, "BASIC")
    # one run catching up on everything: January to March, not April
    lines = run_month("2026-03", clerk)
    assert [(entry[3], entry[4]) for entry in lines] == [
        (Decimal("30.00"), date(2026, month, 1)) for month in (1, 2, 3)
    ]


def test_cancelling_a_contract_ends_its_subscriptions_and_credits_what_was_invoiced_after(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    contract(customer, clerk, term_months=12, auto_renew=True)
    on_contract(customer, clerk, "BASIC", quantity="2")
    later = on_contract(customer, clerk, "BASIC", start_date=date(2026, 6, 1))
    run_month("2025-12", clerk)
    run_month("2026-01", clerk)
    today(date(2026, 2, 3))
    cancel_contract(number="k-1", reason="customer insolvent", actor=clerk, on=date(2026, 2, 14))
    # 14 of February's 28 days of 60.00
    assert [note[1:] for note in credit_notes()] == [
        (Decimal("30.00"), Decimal("35.70"), [(1, Decimal("30.00"))])
    ]
    cancelled = Contract.objects.get()
    assert (cancelled.status, cancelled.end_date, cancelled.auto_renew) == (
        "cancelled",
        date(2026, 2, 14),
        False,
    )
    assert list(Subscription.objects.order_by("pk").values_list("status", "end_date")) == [
        ("cancelled", date(2026, 2, 14)), ("cancelled", None)
    ]  # fmt: skip
    assert Subscription.objects.get(pk=later.pk).cancel_reason == "customer insolvent"
    assert [run_month(month, clerk) for month in ("2026-02", "2026-06")] == [[], []]
    with pytest.raises(DomainError) as refused:
        renew_contract(number="K-1", actor=clerk)
    assert refused.value.field == "status"


def test_notice_before_the_deadline_stops_the_renewal_and_after_it_is_refused(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    contract(customer, clerk, auto_renew=True, notice_days=30)
    on_contract(customer, clerk, "BASIC")
    today(date(2026, 3, 2))  # the deadline was 1 March
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        cancel_contract(number="K-1", reason="too late", actor=clerk, at_term_end=True)
    assert (refused.value.field, AuditEvent.objects.count()) == ("at_term_end", before)
    today(date(2026, 3, 1))
    noticed = cancel_contract(number="K-1", reason="budget", actor=clerk, at_term_end=True)
    assert (noticed.status, noticed.auto_renew, noticed.end_date) == ("active", False, date(2026, 3, 31))
    assert run_month("2026-03", clerk) == [
        line("Basic seats", "1", "30", "30.00", f"2026-0{month}-01", f"2026-0{month}-{days}")
        for month, days in ((1, 31), (2, 28), (3, 31))
    ]
    assert Contract.objects.get().status == "ended"


def test_pending_reads_subscriptions_changes_and_contracts_in_a_fixed_number_of_queries(
    clerk: User, customer: Customer, plans: dict[str, Plan]
) -> None:
    def customer_with_everything(number: int) -> None:
        someone = make_customer(clerk, account_number=f"C-{number}")
        create_contract(
            customer_id=someone.pk, number=f"K-{number}", start_date=date(2026, 1, 1), term_months=12,
            frequency="month", minimum_amount="100", commitment_product_code="CONSULT",
            prices=[ContractPriceData("BASIC", "25")], actor=clerk,
        )  # fmt: skip
        for plan in ("BASIC", "SUPPORT"):
            subscription = subscribe(
                customer_id=someone.pk, plan_code=plan, quantity="1", actor=clerk,
                start_date=date(2026, 1, 1), contract_number=f"K-{number}",
            )  # fmt: skip
            change_subscription(
                subscription_id=subscription.pk, quantity="2", effective_on=date(2026, 1, 10), actor=clerk
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            billables.pending(date(2026, 2, 28))
            billables.pending(
                date(2026, 2, 28), customer_ids=list(Customer.objects.values_list("pk", flat=True))
            )
        return len(captured)

    today(date(2026, 1, 20))
    customer_with_everything(1)
    run_month("2026-01", clerk)  # invoiced periods, and a change into one: a prorated charge pending
    today(date(2026, 2, 3))
    change_subscription(subscription_id=Subscription.objects.first().pk, quantity="3", actor=clerk)
    once = queries()
    for number in (2, 3, 4):
        customer_with_everything(number)
    assert queries() == once


def contracts_state() -> tuple[int, int, int]:
    return Contract.objects.count(), ContractPrice.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"number": "K-1"}, "number"),  # taken
        ({"term_months": 4, "frequency": "quarter"}, "term_months"),
        ({"term_months": 0}, "term_months"),
        ({"renewal_term_months": 5, "frequency": "quarter", "term_months": 6}, "renewal_term_months"),
        ({"frequency": "week"}, "frequency"),
        ({"minimum_amount": "100"}, "commitment_product_code"),
        ({"minimum_amount": "10.005", "commitment_product_code": "CONSULT"}, "minimum_amount"),
        ({"minimum_amount": "10", "commitment_product_code": "NOPE"}, "product_code"),
        ({"escalation_percent": "101"}, "escalation_percent"),
        ({"notice_days": 400}, "notice_days"),
        ({"prices": [ContractPriceData("BASIC-Y", "1")]}, "prices.0.plan_code"),  # yearly on a monthly one
        ({"prices": [ContractPriceData("BASIC", "-1")]}, "prices.0.unit_price"),
        (
            {"prices": [ContractPriceData("BASIC", "1"), ContractPriceData("basic", "2")]},
            "prices.1.plan_code",
        ),
        ({"customer_id": 99999}, "customer_id"),
    ],
)
def test_a_bad_contract_is_refused_naming_the_field(
    clerk: User, customer: Customer, plans: dict[str, Plan], values: dict[str, Any], field: str
) -> None:
    contract(customer, clerk)
    before = contracts_state()
    with pytest.raises(DomainError) as refused:
        contract(customer, clerk, **{"number": "K-2", **values})
    assert refused.value.field == field, refused.value.message
    assert contracts_state() == before


@pytest.mark.parametrize(
    ("plan", "start", "field"),
    [
        ("BASIC-Y", date(2026, 1, 1), "plan_code"),  # yearly on a monthly contract
        ("BASIC", date(2026, 1, 15), "start_date"),  # not on one of its billing dates
        ("BASIC", date(2025, 12, 1), "start_date"),  # before it
        ("BASIC", date(2026, 4, 1), "contract_number"),  # after its end
    ],
)
def test_a_subscription_that_does_not_fit_the_contract_is_refused(
    clerk: User, customer: Customer, plans: dict[str, Plan], plan: str, start: date, field: str
) -> None:
    contract(customer, clerk)
    with pytest.raises(DomainError) as refused:
        on_contract(customer, clerk, plan, start_date=start)
    assert refused.value.field == field, refused.value.message
    other = make_customer(clerk, account_number="OTHER-1")
    with pytest.raises(DomainError) as refused:
        subscribe(customer_id=other.pk, plan_code="BASIC", quantity="1", actor=clerk, contract_number="K-1")
    assert refused.value.field == "contract_number"
    assert Subscription.objects.count() == 0


def test_contracts_over_the_api(
    api_as: Callable[..., Any], clerk: User, customer: Customer, plans: dict[str, Plan],
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    api = api_as(clerk)
    today(date(2026, 1, 5))
    body = {
        "customer_id": customer.pk, "number": "k-9", "start_date": "2026-01-01", "term_months": 12,
        "frequency": "quarter", "auto_renew": True, "minimum_amount": "250",
        "commitment_product_code": "CONSULT", "escalation_percent": "2.5",
        "prices": [{"plan_code": "BASIC", "unit_price": "1"}],
    }  # fmt: skip
    refused = api.post("/billing/contracts", body)
    assert (refused.status_code, refused.json()["field"]) == (400, "prices.0.plan_code")
    made = api.post("/billing/contracts", {**body, "prices": []})
    assert made.status_code == 201, made.json()
    shown = ("number", "end_date", "frequency", "minimum_amount", "status")
    assert {key: made.json()[key] for key in shown} == {
        "number": "K-9", "end_date": "2026-12-31", "frequency": "quarter", "minimum_amount": "250.00",
        "status": "active",
    }  # fmt: skip
    assert api.get("/billing/contracts", status="active").json()["count"] == 1
    assert api.get("/billing/contracts/K-9").json()["renewal_term_months"] == 12
    assert api.get("/billing/contracts/NOPE").status_code == 404
    renewed = api.post("/billing/contracts/K-9/renew")
    assert renewed.json()["end_date"] == "2027-12-31"
    collector = api_as(make_user(Role.COLLECTOR))
    assert collector.post("/billing/contracts/K-9/renew").status_code == 403
    assert collector.post("/billing/contracts", {**body, "number": "K-10", "prices": []}).status_code == 403
    cancelled = api.post("/billing/contracts/K-9/cancel", {"reason": "merged", "on": "2026-01-31"})
    assert (cancelled.json()["status"], cancelled.json()["end_date"]) == ("cancelled", "2026-01-31")
    assert api.post("/billing/contracts/K-9/cancel", {"reason": "again"}).status_code == 409
    events = AuditEvent.objects.filter(action__startswith="contract.").order_by("pk")
    assert [event.action for event in events] == [
        "contract.created", "contract.renewed", "contract.cancelled"
    ]  # fmt: skip
