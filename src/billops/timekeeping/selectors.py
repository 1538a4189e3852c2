"""Reads of time and expense for the API: timekeepers, matters, rates, the UTBMS codes, time entries and
expenses, and the pre-bill review (proforma) of what the next run would bill."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from billops.access import clock
from billops.core.db import given
from billops.core.errors import InvalidInput, NotFound
from billops.core.money import round_money
from billops.customers.selectors import get_customer
from billops.timekeeping.models import Expense, Matter, Rate, TimeEntry, Timekeeper, UtbmsCode
from billops.timekeeping.pricing import (
    RateBook,
    approved_expenses,
    approved_time_entries,
    expense_amount,
    price_entry,
    time_billable,
)


def list_timekeepers(*, active: bool | None = None) -> QuerySet[Timekeeper]:
    return Timekeeper.objects.select_related("user").filter(**given(is_active=active))


def get_timekeeper(code: str, *, for_update: bool = False, field: str = "code") -> Timekeeper:
    """One timekeeper by code (any case), or NotFound naming `field`."""
    timekeepers = Timekeeper.objects.select_for_update(of=("self",)) if for_update else list_timekeepers()
    found = timekeepers.select_related("user").filter(code=code.strip().upper()).first()
    if found is None:
        raise NotFound(f"there is no timekeeper {code.strip()!r}", field=field)
    return found


def list_matters(*, customer_id: int | None = None, status: str = "") -> QuerySet[Matter]:
    matters = Matter.objects.select_related("customer", "fee_product", "expense_product", "created_by")
    return matters.filter(**given(customer_id=customer_id, status=status))


def get_matter(matter_id: int, *, for_update: bool = False, field: str = "matter_id") -> Matter:
    matters = Matter.objects.select_for_update(of=("self",)) if for_update else list_matters()
    found = matters.select_related("customer", "fee_product", "expense_product").filter(pk=matter_id).first()
    if found is None:
        raise NotFound(f"there is no matter {matter_id}", field=field)
    return found


def list_rates(
    *, timekeeper_code: str = "", customer_id: int | None = None, matter_id: int | None = None
) -> QuerySet[Rate]:
    """Rates, the latest first; filtered by whom or where they apply to."""
    rates = Rate.objects.select_related("timekeeper", "customer", "matter", "created_by")
    if timekeeper_code:
        rates = rates.filter(timekeeper__code=timekeeper_code.strip().upper())
    return rates.filter(**given(customer_id=customer_id, matter_id=matter_id))


def list_utbms_codes(*, code_set: str = "") -> QuerySet[UtbmsCode]:
    return UtbmsCode.objects.filter(**given(code_set=code_set))


def list_time_entries(
    *,
    matter_id: int | None = None,
    customer_id: int | None = None,
    timekeeper_code: str = "",
    status: str = "",
    worked_from: date | None = None,
    worked_to: date | None = None,
) -> QuerySet[TimeEntry]:
    """Time entries, the latest day first."""
    entries = TimeEntry.objects.select_related(
        "timekeeper", "matter", "customer", "task_code", "activity_code",
        "created_by", "submitted_by", "approved_by", "adjusted_by",
    )  # fmt: skip
    if timekeeper_code:
        entries = entries.filter(timekeeper__code=timekeeper_code.strip().upper())
    return entries.filter(
        **given(
            matter_id=matter_id, customer_id=customer_id, status=status,
            worked_on__gte=worked_from, worked_on__lte=worked_to,
        )
    )  # fmt: skip


def get_time_entry(entry_id: int) -> TimeEntry:
    entry = list_time_entries().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"there is no time entry {entry_id}", field="entry_id")
    return entry


def list_expenses(
    *, matter_id: int | None = None, customer_id: int | None = None, status: str = ""
) -> QuerySet[Expense]:
    """Expenses, the latest first."""
    expenses = Expense.objects.select_related(
        "matter", "customer", "expense_code", "created_by", "submitted_by", "approved_by"
    )
    return expenses.filter(**given(matter_id=matter_id, customer_id=customer_id, status=status))


def get_expense(expense_id: int) -> Expense:
    expense = list_expenses().filter(pk=expense_id).first()
    if expense is None:
        raise NotFound(f"there is no expense {expense_id}", field="expense_id")
    return expense


@dataclass
class ProformaLine:
    """One approved entry or expense as the run would bill it; `amount` is None when it cannot be."""

    kind: str  # "time" or "expense"
    id: int
    on: date
    matter_number: str
    description: str  # the invoice line's text
    quantity: Decimal  # on the invoice line
    unit_price: Decimal | None  # on the invoice line
    amount: Decimal | None  # quantity * unit price at the currency's minor unit: what is billed
    standard: Decimal | None  # hours * rate before a write-down or write-up (for expenses: the amount)
    timekeeper: str = ""
    hours: Decimal | None = None  # as worked
    rate: Decimal | None = None
    adjustment_reason: str = ""
    problem: str = ""  # why the run would list the customer as an exception


@dataclass
class Proforma:
    """The pre-bill review: approved, unbilled work up to a day, priced as the next run would bill it."""

    currency: str
    up_to: date
    lines: list[ProformaLine] = field(default_factory=list)

    def _sum(self, kind: str, figure: str) -> Decimal:
        values = (getattr(line, figure) for line in self.lines if line.kind == kind)
        return round_money(
            sum((value for value in values if value is not None), Decimal(0)), self.currency
        ).amount

    @property
    def time_standard(self) -> Decimal:
        return self._sum("time", "standard")

    @property
    def time_total(self) -> Decimal:
        return self._sum("time", "amount")

    @property
    def adjustments(self) -> Decimal:
        """Write-ups less write-downs: negative when the review billed less than the standard value."""
        return self.time_total - self.time_standard

    @property
    def expense_total(self) -> Decimal:
        return self._sum("expense", "amount")

    @property
    def total(self) -> Decimal:
        """Net of tax: the invoice decides the tax on its date."""
        return self.time_total + self.expense_total

    @property
    def problems(self) -> list[str]:
        return [line.problem for line in self.lines if line.problem]


def prebill(
    *, matter_id: int | None = None, customer_id: int | None = None, up_to: date | None = None
) -> Proforma:
    """A matter's or a customer's approved, unbilled time and expenses up to a day (default: today),
    priced with the run's own functions: the rate found, write-downs and write-ups applied, the totals."""
    if matter_id is not None and customer_id is None:
        matter = get_matter(matter_id)
        customer, matter_ids, customer_ids = matter.customer, [matter.pk], [matter.customer_id]
    elif customer_id is not None and matter_id is None:
        customer = get_customer(customer_id)
        matter_ids, customer_ids = None, [customer.pk]
    else:
        raise InvalidInput("a pre-bill review is of one matter or one customer", field="matter_id")
    on = up_to or clock.today()
    proforma = Proforma(customer.currency, on)
    entries = approved_time_entries(on, customer_ids, matter_ids=matter_ids)
    book = RateBook.load(up_to=on, customer_ids=customer_ids)
    for entry in entries:
        billable, rate = time_billable(entry, book), book.rate_for(entry)
        priced = price_entry(entry, rate.hourly_rate) if rate else None
        proforma.lines.append(
            ProformaLine(
                "time", entry.pk, entry.worked_on, entry.matter.number, billable.line.description,
                billable.line.quantity, priced.unit_price if priced else None,
                priced.amount if priced else None, priced.standard if priced else None,
                timekeeper=entry.timekeeper.code, hours=entry.hours, rate=priced.rate if priced else None,
                adjustment_reason=entry.adjustment_reason, problem=billable.problem,
            )
        )  # fmt: skip
    for expense, billable in approved_expenses(on, customer_ids, matter_ids=matter_ids):
        amount = expense_amount(expense)
        proforma.lines.append(
            ProformaLine(
                "expense", expense.pk, expense.incurred_on, expense.matter.number, billable.line.description,
                billable.line.quantity, billable.line.unit_price, amount, amount,
            )
        )  # fmt: skip
    proforma.lines.sort(key=lambda line: (line.on, line.kind, line.id))
    return proforma
