"""Bill runs that leave invoices as drafts for review: by the customer's setting, or held because the
total is far above the customer's usual amount. A draft's work is billed (never twice); issuing it is
the usual workflow; deleting it makes every kind of its work pending again for the next run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, BillRunDraft, Charge, Delivery, ProratedCharge
from billops.billing.services.charges import create_charge
from billops.billing.services.execution import start_run
from billops.billing.services.orders import create_order, record_delivery
from billops.billing.services.runs import preview_run
from billops.billing.services.subscriptions import PhaseData, change_subscription, create_plan, subscribe
from billops.cli.invariants import check_all, counts
from billops.customers.models import Customer
from billops.invoicing.errors import WrongStatus
from billops.invoicing.models import Invoice, InvoiceStatus
from billops.invoicing.services.drafts import delete_draft
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice, submit_invoice
from billops.ledger.models import JournalEntry
from billops.settings import _hold_factor
from billops.timekeeping.models import Expense, TimeEntry, WorkStatus
from billops.usage.models import UsagePeriodBilling
from tests.billing.test_runs import preview_rows, written_rows
from tests.invoicing.factories import make_customer
from tests.timekeeping.factories import Firm, approved, approved_expense, make_firm
from tests.usage.factories import event, make_charge, make_metric, make_usage_product, send

pytestmark = pytest.mark.django_db

MARCH, APRIL = "2026-03", "2026-04"
APRIL_FIRST, MAY_FIRST = date(2026, 4, 1), date(2026, 5, 1)


def all_ok() -> None:
    report = check_all()
    assert all(item["ok"] for item in report["invariants"].values()), report


def billed_keys(customer: Customer) -> list[str]:
    return sorted(BilledItem.objects.filter(customer=customer).values_list("key", flat=True))


def run(period: str, actor: User, invoice_date: date) -> Any:
    """The month's run, after its preview, which must be line for line what it writes."""
    expected = preview_rows(preview_run(period=period, actor=actor, invoice_date=invoice_date))
    done = start_run(period=period, actor=actor, invoice_date=invoice_date)
    assert written_rows(done) == expected
    return done


@pytest.fixture
def firm(clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any) -> Firm:
    set_business_date(on=date(2026, 4, 15), actor=make_user(Role.ADMIN))
    return make_firm(clerk, supervisor)


@pytest.fixture
def every_kind(firm: Firm, supervisor: User) -> dict[str, Any]:
    """LAW-1 (the firm's client) reviews its invoices as drafts and has March work of every kind: time, an
    expense, a charge, a delivery, a monthly subscription in advance and API usage."""
    clerk, customer = firm.clerk, firm.customer
    Customer.objects.filter(pk=customer.pk).update(run_creates_drafts=True)
    make_usage_product()
    metric = make_metric(clerk)
    usage = make_charge(clerk, customer, metric, unit_price="0.01")
    send(clerk, *(event(customer, metric, f"e-{n}", "2026-03-14") for n in range(250)))
    create_plan(
        code="SEATS", name="Seats", product_code="LICENSE", currency="EUR", interval="month",
        timing="advance", phases=[PhaseData("evergreen", "30")], actor=supervisor,
    )  # fmt: skip
    seats = subscribe(
        customer_id=customer.pk, plan_code="SEATS", quantity="2", actor=clerk, start_date=date(2026, 3, 1)
    )
    create_order(
        customer_id=customer.pk, number="SO-1", lines=[LineData(product_code="BOOK", quantity="4")],
        actor=clerk, order_date=date(2026, 3, 2),
    )  # fmt: skip
    return {
        "time": approved(firm, "1.5", date(2026, 3, 4)),
        "expense": approved_expense(firm, date(2026, 3, 6)),
        "charge": create_charge(
            customer_id=customer.pk,
            product_code="CONSULT",
            quantity="2",
            actor=clerk,
            charge_date=date(2026, 3, 9),
        ),
        "delivery": record_delivery(
            order_number="SO-1", line_no=1, quantity="3", actor=clerk, delivered_on=date(2026, 3, 10)
        ),
        "seats": seats,
        "usage": usage,
    }


def test_a_customer_reviewing_drafts_gets_a_draft_its_work_billed_once_and_issued_by_the_workflow(
    firm: Firm, every_kind: dict[str, Any], make_user: Callable[..., User]
) -> None:
    clerk, customer = firm.clerk, firm.customer
    march = run(MARCH, clerk, APRIL_FIRST)
    assert (march.invoices_issued, march.totals, march.drafts_created) == (0, {}, 1)
    draft = march.drafts.get()
    invoice = draft.invoice
    assert (draft.customer, draft.reason, draft.message) == (customer, "customer_setting", "")
    assert (invoice.status, invoice.number, invoice.issued_on, invoice.lines.count()) == (
        InvoiceStatus.DRAFT, None, APRIL_FIRST, 7,
    )  # fmt: skip
    assert march.draft_totals == {"EUR": "1415.87"} and draft.total == invoice.total == Decimal("1415.87")
    assert not JournalEntry.objects.filter(source_id=str(invoice.pk)).exists()  # a draft posts nothing
    event_ = AuditEvent.objects.get(action="invoice.draft_created", target_id=str(invoice.pk))
    assert (event_.actor, event_.after["bill_run"], event_.after["draft_reason"]) == (
        clerk, march.pk, "customer_setting",
    )  # fmt: skip
    keys = billed_keys(customer)
    assert keys == sorted(
        [
            f"charge:{every_kind['charge'].pk}", f"delivery:{every_kind['delivery'].pk}",
            f"expense:{every_kind['expense'].pk}", f"time:{every_kind['time'].pk}",
            f"subscription:{every_kind['seats'].pk}:2026-03-01",
            f"subscription:{every_kind['seats'].pk}:2026-04-01", f"usage:{every_kind['usage'].pk}:2026-03-01",
        ]
    )  # fmt: skip
    assert TimeEntry.objects.get(pk=every_kind["time"].pk).status == WorkStatus.BILLED  # locked on the draft
    assert counts()["run_drafts_to_review"] == 1
    # the month run again bills nothing new: the draft holds it
    again = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    assert (again.invoices_issued, again.drafts_created, billed_keys(customer)) == (0, 0, keys)
    # the clerk reviews and issues it through the usual workflow; the run now lists it as issued
    submit_invoice(invoice_id=invoice.pk, actor=clerk)
    issued = issue_invoice(invoice_id=invoice.pk, actor=make_user(Role.SUPERVISOR))
    assert issued.status == InvoiceStatus.ISSUED and issued.number == "INV-2026-000001"
    assert list(march.drafts.values_list("invoice__status", flat=True)) == ["issued"]
    assert counts()["run_drafts_to_review"] == 0
    all_ok()


def test_deleting_a_runs_draft_makes_every_kind_of_its_work_pending_again(
    firm: Firm, every_kind: dict[str, Any]
) -> None:
    clerk, customer = firm.clerk, firm.customer
    march = run(MARCH, clerk, APRIL_FIRST)
    draft = march.drafts.get()
    first_lines = list(draft.invoice.lines.order_by("line_no").values_list("description", "net"))
    keys = billed_keys(customer)

    delete_draft(invoice_id=draft.invoice_id, actor=clerk)
    assert billed_keys(customer) == [] and not Invoice.objects.exists()
    assert Charge.objects.get().status == Charge.Status.PENDING
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    assert TimeEntry.objects.get(pk=every_kind["time"].pk).status == WorkStatus.APPROVED
    assert TimeEntry.objects.get(pk=every_kind["time"].pk).billed_rate is None
    assert Expense.objects.get().status == WorkStatus.APPROVED
    assert not UsagePeriodBilling.objects.exists()
    released = AuditEvent.objects.get(action="bill_run.work_released")
    assert (released.actor, released.after["count"], sorted(released.after["items"])) == (clerk, 7, keys)
    # the run's record of the draft stays, its invoice gone
    assert (BillRunDraft.objects.get().invoice, BillRunDraft.objects.get().reason) == (
        None,
        "customer_setting",
    )

    # the next run bills the same work again: the same lines, the same keys
    again = run(MARCH, clerk, APRIL_FIRST)
    redone = again.drafts.get().invoice
    assert list(redone.lines.order_by("line_no").values_list("description", "net")) == first_lines
    assert billed_keys(customer) == keys
    all_ok()


def test_a_released_usage_month_is_billed_again_under_a_key_never_used_twice(
    firm: Firm, every_kind: dict[str, Any]
) -> None:
    """Part 1 of March on a draft, late usage billed as part 2 by the April run, then part 1's draft
    deleted: the next run bills what part 1 billed as part 3."""
    clerk, customer, usage = firm.clerk, firm.customer, every_kind["usage"]
    march = run(MARCH, clerk, APRIL_FIRST)
    metric = usage.metric
    send(clerk, *(event(customer, metric, f"late-{n}", "2026-03-20") for n in range(100)))
    set_business_date(on=MAY_FIRST, actor=None)
    april = run(APRIL, clerk, MAY_FIRST)
    assert list(UsagePeriodBilling.objects.order_by("part").values_list("part", "events", "amount")) == [
        (1, 250, Decimal("2.50")),
        (2, 100, Decimal("1.00")),
    ]
    delete_draft(invoice_id=march.drafts.get().invoice_id, actor=clerk)
    assert list(UsagePeriodBilling.objects.values_list("part", flat=True)) == [2]
    set_business_date(on=date(2026, 5, 2), actor=None)
    rerun = run(APRIL, clerk, MAY_FIRST)
    usage_lines = rerun.drafts.get().invoice.lines.filter(description__startswith="API calls, March")
    assert list(usage_lines.values_list("description", "net")) == [
        ("API calls, March 2026: late-usage adjustment, +250 calls", Decimal("2.50"))
    ]
    assert list(UsagePeriodBilling.objects.order_by("part").values_list("part", "events", "amount")) == [
        (2, 100, Decimal("1.00")),
        (3, 250, Decimal("2.50")),
    ]
    assert f"usage:{usage.pk}:2026-03-01:3" in billed_keys(customer)
    assert april.drafts.count() == 1
    all_ok()


def test_a_change_into_a_period_billed_on_a_draft_is_refused_until_the_draft_is_settled(
    firm: Firm, every_kind: dict[str, Any]
) -> None:
    clerk, seats = firm.clerk, every_kind["seats"]
    march = run(MARCH, clerk, APRIL_FIRST)
    changes_before = seats.changes.count()
    with pytest.raises(WrongStatus) as refused:
        change_subscription(
            subscription_id=seats.pk, actor=clerk, effective_on=date(2026, 3, 16), quantity="3"
        )
    assert refused.value.field == "status"
    assert "is a bill run's draft under review" in refused.value.message
    assert (seats.changes.count(), ProratedCharge.objects.count()) == (changes_before, 0)
    # deleted, the period is pending again and the change cuts it as usual
    delete_draft(invoice_id=march.drafts.get().invoice_id, actor=clerk)
    change_subscription(subscription_id=seats.pk, actor=clerk, effective_on=date(2026, 3, 16), quantity="3")
    assert ProratedCharge.objects.count() == 0  # nothing invoiced to settle
    rerun = run(MARCH, clerk, APRIL_FIRST)
    seat_lines = rerun.drafts.get().invoice.lines.filter(description__startswith="Seats")
    assert list(seat_lines.order_by("line_no").values_list("service_start", "service_end", "net")) == [
        (date(2026, 3, 1), date(2026, 3, 15), Decimal("29.03")),  # 2 x 30 x 15/31
        (date(2026, 3, 16), date(2026, 3, 31), Decimal("46.45")),  # 3 x 30 x 16/31
        (date(2026, 4, 1), date(2026, 4, 30), Decimal("90.00")),
    ]
    all_ok()


# --- holding an unusual amount ------------------------------------------------------------------------


@pytest.fixture
def regular(clerk: User, entity: Any, catalog: Any) -> Customer:
    """A customer billed three months in a row (119.00, 119.00 and 238.00 EUR with VAT): usually 119.00."""
    customer = make_customer(clerk, account_number="R-1")
    for month, quantity in ((1, "1"), (2, "1"), (3, "2")):
        create_charge(
            customer_id=customer.pk, description="Service", unit_price="100", tax_code="VAT-STD",
            quantity=quantity, actor=clerk, charge_date=date(2026, month, 10),
        )  # fmt: skip
        invoice_date = date(2026, month + 1, 1)
        set_business_date(on=invoice_date, actor=None)
        start_run(period=f"2026-{month:02}", actor=clerk, invoice_date=invoice_date)
    return customer


def service(customer: Customer, clerk: User, quantity: str) -> None:
    create_charge(
        customer_id=customer.pk, description="Service", unit_price="100", tax_code="VAT-STD",
        quantity=quantity, actor=clerk, charge_date=date(2026, 4, 10),
    )  # fmt: skip


def test_an_invoice_far_above_the_usual_amount_is_held_as_a_draft(regular: Customer, clerk: User) -> None:
    service(regular, clerk, "4")  # 476.00: four times the usual 119.00
    set_business_date(on=MAY_FIRST, actor=None)
    preview = preview_run(period=APRIL, actor=clerk, invoice_date=MAY_FIRST)
    held = "476.00 EUR is more than 3 times the usual 119.00 EUR (the median of its last 3 invoices)"
    assert [(p.draft_reason, p.draft_message) for p in preview.invoices] == [("unusual_amount", held)]
    april = run(APRIL, clerk, MAY_FIRST)
    assert (april.invoices_issued, april.drafts_created, april.draft_totals) == (0, 1, {"EUR": "476.00"})
    draft = april.drafts.get()
    assert (draft.reason, draft.message, draft.invoice.status) == (
        "unusual_amount",
        held,
        InvoiceStatus.DRAFT,
    )
    assert Charge.objects.filter(customer=regular, status="pending").count() == 0
    all_ok()


def test_an_amount_within_the_factor_is_issued(regular: Customer, clerk: User) -> None:
    service(regular, clerk, "3")  # 357.00: three times 119.00, not more
    set_business_date(on=MAY_FIRST, actor=None)
    april = run(APRIL, clerk, MAY_FIRST)
    assert (april.invoices_issued, april.drafts_created, april.totals) == (1, 0, {"EUR": "357.00"})


def test_holding_is_off_with_factor_zero_and_needs_three_earlier_invoices(
    regular: Customer, clerk: User, settings: Any
) -> None:
    newcomer = make_customer(clerk, account_number="N-1")
    for customer in (regular, newcomer):
        service(customer, clerk, "50")
    set_business_date(on=MAY_FIRST, actor=None)
    preview = preview_run(period=APRIL, actor=clerk, invoice_date=MAY_FIRST)
    # the newcomer has no usual amount yet: issued
    assert [(p.customer.account_number, p.draft_reason) for p in preview.invoices] == [
        ("N-1", ""),
        ("R-1", "unusual_amount"),
    ]
    settings.BILL_RUN_HOLD_FACTOR = Decimal(0)
    april = run(APRIL, clerk, MAY_FIRST)
    assert (april.invoices_issued, april.drafts_created) == (2, 0)


@pytest.mark.parametrize("text", ["-1", "three", "NaN", "Infinity"])
def test_a_hold_factor_that_is_not_a_number_of_zero_or_more_stops_the_start(text: str) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        _hold_factor(text)
    assert str(refused.value) == f"BILLOPS_BILL_RUN_HOLD_FACTOR={text!r} is not a number of 0 or more"
    assert _hold_factor("2.5") == Decimal("2.5")
