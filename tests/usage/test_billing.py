"""Usage in bill runs: a month billed in arrears with its tax, late events billed by the difference
exactly once, a month run again bills nothing, and the preview is line for line the run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billops.access.models import User
from billops.billing.models import BilledItem
from billops.billing.services.execution import start_run
from billops.billing.services.runs import preview_run
from billops.cli.invariants import check_all
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from billops.usage import billables
from billops.usage.models import BillableMetric, UsageCharge, UsagePeriodBilling
from billops.usage.services.charges import end_usage_charge
from tests.billing.test_runs import preview_rows, written_rows
from tests.invoicing.factories import make_customer
from tests.usage.factories import event, make_charge, make_metric, send

pytestmark = pytest.mark.django_db

APRIL_FIRST, MAY_FIRST = date(2026, 4, 1), date(2026, 5, 1)
MARCH_END, APRIL_END = date(2026, 3, 31), date(2026, 4, 30)


@pytest.fixture
def calls(clerk: User, usage_product: Any) -> BillableMetric:
    return make_metric(clerk)


@pytest.fixture
def customer_a(clerk: User, entity: Any, calls: BillableMetric) -> Customer:
    """A-1 pays 0.05 EUR a call from March; 3 calls in March, 1 in April."""
    customer = make_customer(clerk, account_number="A-1")
    make_charge(clerk, customer, calls, unit_price="0.05")
    send(
        clerk,
        event(customer, calls, "e1", "2026-03-01T00:00:00Z"),
        event(customer, calls, "e2", "2026-03-15"),
        event(customer, calls, "e3", "2026-03-31T23:59:59Z"),
        event(customer, calls, "e4", "2026-04-01T00:00:00Z"),
    )
    return customer


def invoice_lines(customer: Customer) -> list[tuple[Any, ...]]:
    lines = Invoice.objects.get(customer=customer, issued_on=APRIL_FIRST).lines.order_by("line_no")
    return [
        (line.description, line.quantity, line.unit, line.unit_price, line.net, line.tax_amount)
        for line in lines
    ]


def checks_pass() -> None:
    report = check_all()
    assert all(item["ok"] for item in report["invariants"].values()), report


def test_a_month_of_usage_is_billed_in_arrears_with_its_tax(clerk: User, customer_a: Customer) -> None:
    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert (run.invoices_issued, run.totals) == (1, {"EUR": "0.18"})
    assert invoice_lines(customer_a) == [
        ("API calls, March 2026", Decimal(3), "calls", Decimal("0.05"), Decimal("0.15"), Decimal("0.03"))
    ]
    charge = UsageCharge.objects.get()
    assert list(BilledItem.objects.values_list("key", flat=True)) == [f"usage:{charge.pk}:2026-03-01"]
    assert list(UsagePeriodBilling.objects.values_list("month", "part", "quantity", "amount", "events")) == [
        (date(2026, 3, 1), 1, Decimal(3), Decimal("0.15"), 3)
    ]
    checks_pass()


def test_a_late_event_is_billed_by_the_next_run_exactly_once(
    clerk: User, customer_a: Customer, calls: BillableMetric
) -> None:
    start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    # two March calls arrive after March was billed, one of them sent twice
    late = event(customer_a, calls, "late-1", "2026-03-20")
    send(clerk, late, event(customer_a, calls, "late-2", "2026-03-30"), late)

    preview = preview_run(period="2026-04", actor=clerk, invoice_date=MAY_FIRST)
    run = start_run(period="2026-04", actor=clerk, invoice_date=MAY_FIRST)
    assert written_rows(run) == preview_rows(preview)
    invoice = Invoice.objects.get(customer=customer_a, issued_on=MAY_FIRST)
    assert [
        (line.description, line.quantity, line.unit_price, line.net)
        for line in invoice.lines.order_by("line_no")
    ] == [
        (
            "API calls, March 2026: late-usage adjustment, +2 calls",
            Decimal(2),
            Decimal("0.05"),
            Decimal("0.10"),
        ),
        ("API calls, April 2026", Decimal(1), Decimal("0.05"), Decimal("0.05")),
    ]
    charge = UsageCharge.objects.get()
    assert sorted(BilledItem.objects.values_list("key", flat=True)) == [
        f"usage:{charge.pk}:2026-03-01",
        f"usage:{charge.pk}:2026-03-01:2",
        f"usage:{charge.pk}:2026-04-01",
    ]
    billed = UsagePeriodBilling.objects.order_by("month", "part")
    assert list(billed.values_list("month", "part", "quantity", "amount", "events")) == [
        (date(2026, 3, 1), 1, Decimal(3), Decimal("0.15"), 3),
        (date(2026, 3, 1), 2, Decimal(2), Decimal("0.10"), 2),
        (date(2026, 4, 1), 1, Decimal(1), Decimal("0.05"), 1),
    ]
    # the same months again: nothing more to bill
    again = start_run(period="2026-04", actor=clerk, invoice_date=MAY_FIRST)
    assert (again.customers_due, again.invoices_issued) == (0, 0)
    assert billables.pending(APRIL_END, None, False) == []
    assert Invoice.objects.count() == 2
    checks_pass()


def test_running_the_month_again_bills_nothing(clerk: User, customer_a: Customer) -> None:
    start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    again = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert (again.customers_due, again.invoices_issued, again.totals) == (0, 0, {})
    assert (Invoice.objects.count(), UsagePeriodBilling.objects.count()) == (1, 1)
    assert preview_run(period="2026-03", actor=clerk).invoices == []


def test_the_preview_is_the_run_for_every_charge_model(clerk: User, entity: Any, usage_product: Any) -> None:
    storage = make_metric(clerk, "STORAGE", "max", name="Storage", unit="GB", field="gb")
    payments = make_metric(clerk, "PAYMENTS", "sum", name="Card payments", unit="EUR", field="amount")
    seats = make_metric(clerk, "SEATS", "unique_count", name="Active users", unit="users", field="user")
    a, b = make_customer(clerk, account_number="A-1"), make_customer(clerk, account_number="B-1")
    tiers = [{"up_to": "10", "unit_price": "1", "flat_fee": "5"}, {"up_to": None, "unit_price": "0.5"}]
    make_charge(clerk, a, storage, "graduated", tiers=tiers)
    make_charge(clerk, b, storage, "volume", tiers=tiers)
    make_charge(clerk, a, payments, "percentage", percentage="2.9", fixed_fee="0.25")
    make_charge(clerk, b, seats, "package", package_size="5", package_price="20")
    send(
        clerk,
        event(a, storage, "s1", "2026-03-02", gb="4"),
        event(a, storage, "s2", "2026-03-09", gb="12.5"),
        event(b, storage, "s1", "2026-03-02", value="12.5"),
        event(a, payments, "p1", "2026-03-03", amount="100.00"),
        event(a, payments, "p2", "2026-03-04", value="33.33"),
        *(event(b, seats, f"u{n}", "2026-03-05", user=f"user-{n % 6}") for n in range(9)),
    )
    preview = preview_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert written_rows(run) == preview_rows(preview)
    lines = Invoice.objects.filter(issued_on=APRIL_FIRST).order_by("customer__account_number")
    assert [
        (
            invoice.customer.account_number,
            line.description,
            line.quantity,
            line.unit,
            line.unit_price,
            line.net,
        )
        for invoice in lines
        for line in invoice.lines.order_by("line_no")
    ] == [
        # 10 GB at 1 + 5, then 2.5 GB at 0.5; 2.9 % of 133.33 + 2 x 0.25
        ("A-1", "Storage, March 2026: 12.5 GB", 1, "month", Decimal("16.25"), Decimal("16.25")),
        ("A-1", "Card payments, March 2026: 133.33 EUR", 1, "month", Decimal("4.37"), Decimal("4.37")),
        # all 12.5 GB at the second tier's 0.5; 6 users in packages of 5
        ("B-1", "Storage, March 2026: 12.5 GB", 1, "month", Decimal("6.25"), Decimal("6.25")),
        ("B-1", "Active users, March 2026: 6 users", 2, "package", Decimal("20"), Decimal("40.00")),
    ]
    checks_pass()


def test_a_month_with_no_events_makes_no_line_and_an_ended_charge_stops(
    clerk: User, customer_a: Customer, calls: BillableMetric
) -> None:
    charge = UsageCharge.objects.get()
    end_usage_charge(charge_id=charge.pk, end_date=date(2026, 3, 31), actor=clerk)
    start_run(period="2026-04", actor=clerk, invoice_date=MAY_FIRST)
    # March is billed by the April run (it was pending); April's call is after the charge ended
    invoice = Invoice.objects.get()
    assert [line.description for line in invoice.lines.all()] == ["API calls, March 2026"]
    assert billables.pending(date(2026, 6, 30), None, False) == []


def test_pending_reads_a_constant_number_of_queries(clerk: User, entity: Any, calls: BillableMetric) -> None:
    def queries(customers: int) -> int:
        made = [make_customer(clerk) for _ in range(customers)]
        for customer in made:
            make_charge(clerk, customer, calls, unit_price="0.01")
            send(clerk, *(event(customer, calls, f"q{n}", f"2026-0{3 + n % 2}-1{n}") for n in range(4)))
        with CaptureQueriesContext(connection) as captured:
            found = billables.pending(APRIL_END, [customer.pk for customer in made], lock=False)
        assert len(found) == 2 * customers
        return len(captured)

    assert queries(1) == queries(5) == 3


def test_usage_that_gets_cheaper_after_billing_bills_nothing_and_more_bills_only_the_excess(
    clerk: User, entity: Any, usage_product: Any
) -> None:
    storage = make_metric(clerk, "STORAGE", "sum", name="Storage", unit="GB", field="gb")
    customer = make_customer(clerk, account_number="A-1")
    tiers = [{"up_to": "10", "unit_price": "1"}, {"up_to": None, "unit_price": "0.5"}]
    make_charge(clerk, customer, storage, "volume", tiers=tiers)
    send(clerk, event(customer, storage, "s1", "2026-03-02", gb="10"))
    start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)  # 10 GB at 1 = 10.00
    send(clerk, event(customer, storage, "s2", "2026-03-03", gb="2"))  # 12 GB at 0.5 = 6.00: cheaper
    assert billables.pending(APRIL_END, None, False) == []
    send(clerk, event(customer, storage, "s3", "2026-03-04", gb="12"))  # 24 GB at 0.5 = 12.00
    [item] = billables.pending(APRIL_END, None, False)
    assert (item.line.description, item.line.quantity, item.line.unit_price, item.part) == (
        "Storage, March 2026: late-usage adjustment, +14 GB",
        Decimal(1),
        Decimal("2.00"),
        "2",
    )
