"""Bill runs bill approved time and expenses: at the rate found, write-downs applied, with tax, once; a
timekeeper without a rate makes the customer an exception; billed work is locked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, BillRun
from billops.billing.services.execution import start_run
from billops.billing.services.runs import RunPreview, preview_run
from billops.invoicing.errors import NotEditable
from billops.invoicing.models import Invoice
from billops.timekeeping.models import Expense, TimeEntry
from billops.timekeeping.pricing import exact_line
from billops.timekeeping.selectors import prebill
from billops.timekeeping.services import approval, entries
from billops.timekeeping.services.billing import pending_expenses, pending_time
from tests.invoicing.factories import make_customer
from tests.timekeeping.factories import Firm, approved, approved_expense, make_matter, record

pytestmark = pytest.mark.django_db

MARCH = "2026-03"
APRIL_FIRST = date(2026, 4, 1)


@pytest.fixture
def work(firm: Firm) -> dict[str, Any]:
    """LAW-1: four entries (one written down to an amount, one to fewer hours) and two expenses in March,
    an entry of April and a draft; LAW-2: a paralegal without a rate; LAW-3: an hour of an associate."""
    law2 = make_customer(firm.clerk, account_number="LAW-2")
    law3 = make_customer(firm.clerk, account_number="LAW-3")
    m2, m3 = make_matter(firm.clerk, law2, "M-002", po_number="PO-77"), make_matter(firm.clerk, law3, "M-003")
    made = {
        "jd": approved(firm, "1.5", date(2026, 3, 4), task_code="L110", activity_code="A104"),
        "as": approved(
            firm, "2.3", date(2026, 3, 5), timekeeper=firm.associate, narrative="Drafted the answer"
        ),
        "capped": approved(firm, "0.7", date(2026, 3, 10), narrative="Call with client"),
        "fewer": approved(firm, "3.0", date(2026, 3, 12), timekeeper=firm.associate, narrative="Research"),
        "copies": approved_expense(
            firm,
            date(2026, 3, 6),
            description="Copies",
            quantity="120",
            unit_cost="0.15",
            markup_percent="10",
            expense_code="E101",
        ),
        "court": approved_expense(firm, date(2026, 3, 7)),
        "april": approved(firm, "1.0", date(2026, 4, 2)),
        "draft": record(firm, "1.0", date(2026, 3, 20)),
        "no_rate": approved(firm, "1.0", date(2026, 3, 3), timekeeper=firm.paralegal, matter_id=m2.pk),
        "law2_jd": approved(firm, "1.0", date(2026, 3, 3), matter_id=m2.pk),
        "law3": approved(firm, "1.0", date(2026, 3, 9), timekeeper=firm.associate, matter_id=m3.pk),
    }
    review = {"actor": firm.supervisor}
    approval.adjust_time_entry(
        entry_id=made["capped"].pk, billed_amount="200", reason="fixed fee call", **review
    )
    approval.adjust_time_entry(entry_id=made["fewer"].pk, billed_hours="2.0", reason="inefficient", **review)
    return made


def row(invoice: Invoice, line: Any) -> tuple[Any, ...]:
    return (
        invoice.customer.account_number, invoice.total, line.line_no, line.description, line.quantity,
        line.unit, line.unit_price, line.net, line.tax_rate, line.tax_amount, line.reference,
    )  # fmt: skip


def preview_rows(preview: RunPreview) -> list[tuple[Any, ...]]:
    return [row(planned.invoice, line) for planned in preview.invoices for line in planned.lines]


def written_rows(run: BillRun) -> list[tuple[Any, ...]]:
    invoices = Invoice.objects.filter(pk__in=BilledItem.objects.filter(run=run).values("invoice_id"))
    ordered = invoices.select_related("customer").order_by("customer__account_number")
    return [row(invoice, line) for invoice in ordered for line in invoice.lines.order_by("line_no")]


REF = "matter M-001"
# customer, invoice total, line, description, quantity, unit, unit price, net, tax rate, tax, reference
EXPECTED = [
    ("LAW-1", "2373.81", 1, "2026-03-04 JD L110/A104: Reviewed the complaint", "1.5", "hour", "400", "600.00",
     "114.00", REF),
    ("LAW-1", "2373.81", 2, "2026-03-05 AS: Drafted the answer", "2.3", "hour", "250", "575.00", "109.25",
     REF),
    ("LAW-1", "2373.81", 3, "2026-03-06 E101: Copies + 10 %", "120", "each", "0.165", "19.80", "3.76", REF),
    ("LAW-1", "2373.81", 4, "2026-03-07 E112: Court filing fee", "1", "each", "100", "100.00", "19.00", REF),
    ("LAW-1", "2373.81", 5, "2026-03-10 JD: Call with client", "1", "each", "200", "200.00", "38.00", REF),
    ("LAW-1", "2373.81", 6, "2026-03-12 AS: Research", "2.0", "hour", "250", "500.00", "95.00", REF),
    ("LAW-3", "297.50", 1, "2026-03-09 AS: Reviewed the complaint", "1.0", "hour", "250", "250.00", "47.50",
     "matter M-003"),
]  # fmt: skip


def expected_rows() -> list[tuple[Any, ...]]:
    return [
        (account, Decimal(total), line_no, text, Decimal(quantity), unit, Decimal(price), Decimal(net),
         Decimal(19), Decimal(tax), reference)
        for account, total, line_no, text, quantity, unit, price, net, tax, reference in EXPECTED
    ]  # fmt: skip


def statuses(work: dict[str, Any]) -> dict[str, str]:
    """Each item's status as it is in the database now."""
    return {name: type(item).objects.get(pk=item.pk).status for name, item in work.items()}


def test_a_run_bills_approved_time_and_expenses_at_their_rates_with_tax_once_and_the_preview_is_the_run(
    clerk: User, work: dict[str, Any]
) -> None:
    preview = preview_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    assert preview_rows(preview) == expected_rows()
    message = "no hourly rate for timekeeper PL on matter M-002 on 2026-03-03"
    assert [(item.customer.account_number, item.field, item.message) for item in preview.exceptions] == [
        ("LAW-2", "rate", message)
    ]
    run = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    assert written_rows(run) == expected_rows()
    assert (run.customers_due, run.invoices_issued, run.totals) == (3, 2, {"EUR": "2671.31"})
    assert [(item.customer.account_number, item.field, item.message) for item in run.exceptions.all()] == [
        ("LAW-2", "rate", message)
    ]
    assert statuses(work) == {
        "jd": "billed", "as": "billed", "capped": "billed", "fewer": "billed", "copies": "billed",
        "court": "billed", "april": "approved", "draft": "draft", "no_rate": "approved",
        "law2_jd": "approved", "law3": "billed",
    }  # fmt: skip
    billed = TimeEntry.objects.filter(status="billed").order_by("worked_on")
    assert [(entry.narrative, entry.billed_rate) for entry in billed] == [
        ("Reviewed the complaint", Decimal(400)),
        ("Drafted the answer", Decimal(250)),
        ("Reviewed the complaint", Decimal(250)),
        ("Call with client", Decimal(400)),
        ("Research", Decimal(250)),
    ]
    keys = set(BilledItem.objects.values_list("key", flat=True))
    assert {f"time:{work[name].pk}" for name in ("jd", "as", "capped", "fewer", "law3")} <= keys
    assert {f"expense:{work[name].pk}" for name in ("copies", "court")} <= keys and len(keys) == 7

    # the same month again bills nothing: LAW-2 is still an exception, nothing else is pending
    again = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    assert (again.customers_due, again.invoices_issued, again.totals) == (1, 0, {})
    assert (Invoice.objects.count(), BilledItem.objects.count()) == (2, 7)


def test_a_rate_for_the_missing_timekeeper_lets_the_next_run_bill_the_customer(
    clerk: User, firm: Firm, work: dict[str, Any]
) -> None:
    from billops.timekeeping.services.setup import set_rate

    start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    set_rate(
        role="paralegal",
        hourly_rate="120",
        currency="EUR",
        valid_from=date(2026, 1, 1),
        actor=firm.supervisor,
    )
    run = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    rows = written_rows(run)
    assert [(r[0], r[3], r[4], r[6], r[7], r[10]) for r in rows] == [
        ("LAW-2", "2026-03-03 PL: Reviewed the complaint", Decimal("1.0"), Decimal(120), Decimal("120.00"),
         "matter M-002 · PO PO-77"),
        ("LAW-2", "2026-03-03 JD: Reviewed the complaint", Decimal("1.0"), Decimal(400), Decimal("400.00"),
         "matter M-002 · PO PO-77"),
    ]  # fmt: skip


def test_the_pre_bill_review_prices_as_the_run_bills(clerk: User, firm: Firm, work: dict[str, Any]) -> None:
    proforma = prebill(matter_id=firm.matter.pk, up_to=date(2026, 3, 31))
    assert [(line.kind, line.timekeeper, line.hours, line.rate, line.standard, line.amount) for line in
            proforma.lines] == [
        ("time", "JD", Decimal("1.5"), Decimal(400), Decimal("600.00"), Decimal("600.00")),
        ("time", "AS", Decimal("2.3"), Decimal(250), Decimal("575.00"), Decimal("575.00")),
        ("expense", "", None, None, Decimal("19.80"), Decimal("19.80")),
        ("expense", "", None, None, Decimal("100.00"), Decimal("100.00")),
        ("time", "JD", Decimal("0.7"), Decimal(400), Decimal("280.00"), Decimal("200")),
        ("time", "AS", Decimal("3.0"), Decimal(250), Decimal("750.00"), Decimal("500.00")),
    ]  # fmt: skip
    assert (proforma.time_standard, proforma.time_total, proforma.adjustments) == (
        Decimal("2205.00"), Decimal("1875.00"), Decimal("-330.00"),
    )  # fmt: skip
    assert (proforma.expense_total, proforma.total, proforma.problems) == (
        Decimal("119.80"), Decimal("1994.80"), [],
    )  # fmt: skip
    # the same figures as the invoice the run issues, before tax
    run = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    invoice = Invoice.objects.get(
        customer=firm.customer, pk__in=BilledItem.objects.filter(run=run).values("invoice_id")
    )
    assert invoice.subtotal == proforma.total
    law2 = prebill(customer_id=work["no_rate"].customer_id, up_to=date(2026, 3, 31))
    assert law2.problems == ["no hourly rate for timekeeper PL on matter M-002 on 2026-03-03"]
    assert (law2.time_total, law2.total) == (Decimal("400.00"), Decimal("400.00"))


def test_an_amount_write_down_bills_exactly_that_amount(clerk: User, firm: Firm) -> None:
    assert exact_line(Decimal("3.0"), Decimal("999.99")) == (Decimal("3.0"), Decimal("333.33"))
    assert exact_line(Decimal("3.0"), Decimal("1000")) == (Decimal(1), Decimal("1000"))
    assert exact_line(Decimal("0.7"), Decimal("0.07")) == (Decimal("0.7"), Decimal("0.1"))
    thirds = approved(firm, "3.0", date(2026, 3, 2))
    whole = approved(firm, "3.0", date(2026, 3, 3))
    review = {"actor": firm.supervisor, "reason": "agreed"}
    approval.adjust_time_entry(entry_id=thirds.pk, billed_amount="999.99", **review)
    approval.adjust_time_entry(entry_id=whole.pk, billed_amount="1000.00", **review)
    run = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    assert [(r[4], r[5], r[6], r[7]) for r in written_rows(run)] == [
        (Decimal("3.0"), "hour", Decimal("333.33"), Decimal("999.99")),
        (Decimal(1), "each", Decimal(1000), Decimal("1000.00")),
    ]


def test_billed_work_is_locked(clerk: User, firm: Firm, work: dict[str, Any]) -> None:
    start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    entry, expense = work["jd"], work["court"]
    supervisor = firm.supervisor
    attempts: list[Callable[[], Any]] = [
        lambda: entries.change_time_entry(entry_id=entry.pk, hours="1.0", actor=clerk),
        lambda: entries.delete_time_entry(entry_id=entry.pk, actor=clerk),
        lambda: approval.submit_time_entry(entry_id=entry.pk, actor=clerk),
        lambda: approval.approve_time_entry(entry_id=entry.pk, actor=supervisor),
        lambda: approval.reject_time_entry(entry_id=entry.pk, reason="wrong", actor=supervisor),
        lambda: approval.adjust_time_entry(
            entry_id=entry.pk, reason="late", billed_hours="1", actor=supervisor
        ),
        lambda: entries.change_expense(expense_id=expense.pk, quantity="2", actor=clerk),
        lambda: entries.delete_expense(expense_id=expense.pk, actor=clerk),
        lambda: approval.approve_expense(expense_id=expense.pk, actor=supervisor),
        lambda: approval.reject_expense(expense_id=expense.pk, reason="wrong", actor=supervisor),
    ]
    before = (
        list(TimeEntry.objects.order_by("pk").values()),
        list(Expense.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )
    for attempt in attempts:
        with pytest.raises(NotEditable) as refused:
            attempt()
        assert refused.value.field == "status" and "is billed and locked" in refused.value.message
    after = (
        list(TimeEntry.objects.order_by("pk").values()),
        list(Expense.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )
    assert after == before


def test_pending_work_is_read_in_a_constant_number_of_queries(firm: Firm) -> None:
    def queries(up_to: date, customer_ids: list[int] | None) -> int:
        with CaptureQueriesContext(connection) as captured:
            pending_time(up_to, customer_ids, False)
            pending_expenses(up_to, customer_ids, False)
        return len(captured)

    approved(firm, "1.0", date(2026, 3, 2))
    one = queries(date(2026, 3, 31), [firm.customer.pk]), queries(date(2026, 3, 31), None)
    for number in range(4):
        customer = make_customer(firm.clerk, account_number=f"MANY-{number}")
        matter = make_matter(firm.clerk, customer, f"M-MANY-{number}")
        for day in (2, 3, 4):
            approved(firm, "1.0", date(2026, 3, day), matter_id=matter.pk, timekeeper=firm.associate)
            approved_expense(firm, date(2026, 3, day), matter_id=matter.pk)
    ids = list(TimeEntry.objects.values_list("customer_id", flat=True).distinct())
    assert (queries(date(2026, 3, 31), ids), queries(date(2026, 3, 31), None)) == one == (3, 3)


def test_nothing_of_a_customer_with_a_problem_is_billed_and_the_run_says_why(
    clerk: User, work: dict[str, Any]
) -> None:
    run = start_run(period=MARCH, actor=clerk, invoice_date=APRIL_FIRST)
    assert not Invoice.objects.filter(customer_id=work["no_rate"].customer_id).exists()
    assert TimeEntry.objects.filter(customer_id=work["no_rate"].customer_id, status="approved").count() == 2
    assert run.exceptions.get().field == "rate"
