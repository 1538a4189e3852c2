"""Pricing approved time and expenses as a bill run bills them, for the run and for the pre-bill review.

An entry is billed at the hourly rate valid on its date, the most specific first:

1. the matter's rate for the timekeeper,
2. the matter's rate for the timekeeper's role,
3. the customer's rate for the timekeeper,
4. the customer's rate for the role,
5. the timekeeper's default rate,
6. the role's default rate,

in the customer's currency. An entry with no rate is a `Billable` with a problem: the run lists its
customer as an exception. Everything here reads a constant number of queries, whatever the number of
customers or items: the rates are read once and resolved in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction

from django.db.models import Q, QuerySet

from billops.billing.services.billables import REFERENCE_LENGTH, Billable
from billops.catalog.display import plain_decimal
from billops.core.money import round_money
from billops.invoicing.models import InvoiceLine
from billops.invoicing.services.lines import MAX_PRICE_PLACES, LineData
from billops.timekeeping.models import Expense, Rate, TimeEntry, Work, WorkStatus

DESCRIPTION_LENGTH = InvoiceLine._meta.get_field("description").max_length or 500

# the precedence above, as the scope of a rate: (matter or customer or neither, timekeeper or role)
LEVELS = (
    ("matter", "timekeeper"),
    ("matter", "role"),
    ("customer", "timekeeper"),
    ("customer", "role"),
    ("default", "timekeeper"),
    ("default", "role"),
)
ScopeKey = tuple[str, int | None, str, int | str]


def scope_key(rate: Rate) -> ScopeKey:
    """Where the rate sits in the precedence: its level and whom it is for."""
    if rate.matter_id is not None:
        where: tuple[str, int | None] = ("matter", rate.matter_id)
    elif rate.customer_id is not None:
        where = ("customer", rate.customer_id)
    else:
        where = ("default", None)
    if rate.timekeeper_id is not None:
        return (*where, "timekeeper", rate.timekeeper_id)
    return (*where, "role", rate.role)


class RateBook:
    """Hourly rates read once, resolved per entry in Python."""

    def __init__(self, rates: Iterable[Rate]) -> None:
        self.rates: dict[ScopeKey, list[Rate]] = defaultdict(list)
        for rate in rates:
            self.rates[scope_key(rate)].append(rate)

    @classmethod
    def load(cls, *, up_to: date, customer_ids: Collection[int] | None = None) -> RateBook:
        """The rates that may price work up to a day: the defaults and, given, those customers' own."""
        rates = Rate.objects.filter(valid_from__lte=up_to)
        if customer_ids is not None:
            rates = rates.filter(Q(customer__isnull=True) | Q(customer_id__in=customer_ids))
        return cls(rates)

    def rate_for(self, entry: TimeEntry) -> Rate | None:
        """The rate that bills the entry: the most specific valid on its date in the customer's currency."""
        holders: dict[str, int | None] = {
            "matter": entry.matter_id, "customer": entry.customer_id, "default": None
        }  # fmt: skip
        subjects: dict[str, int | str] = {"timekeeper": entry.timekeeper_id, "role": entry.timekeeper.role}
        for where, whom in LEVELS:
            for rate in self.rates.get((where, holders[where], whom, subjects[whom]), ()):
                valid = rate.valid_from <= entry.worked_on and (
                    rate.valid_to is None or entry.worked_on <= rate.valid_to
                )
                if valid and rate.currency == entry.currency:
                    return rate
        return None


@dataclass(frozen=True, slots=True)
class PricedEntry:
    """What the run bills for one time entry: quantity * unit price is the amount exactly."""

    quantity: Decimal
    unit_price: Decimal
    rate: Decimal  # the hourly rate found
    standard: Decimal  # hours * rate, before any write-down or write-up, at the currency's minor unit
    amount: Decimal  # what is billed, at the currency's minor unit


def exact_line(quantity: Decimal, amount: Decimal) -> tuple[Decimal, Decimal]:
    """A quantity and unit price whose product is exactly `amount`: the quantity at amount / quantity
    when that price fits an invoice line's places, else 1 * the amount."""
    share = Fraction(amount) / Fraction(quantity)
    if (share * 10**MAX_PRICE_PLACES).denominator == 1:
        return quantity, Decimal(share.numerator) / Decimal(share.denominator)
    return Decimal(1), amount


def price_entry(entry: TimeEntry, rate: Decimal) -> PricedEntry:
    """An entry at an hourly rate, its write-down or write-up applied."""
    standard = round_money(entry.hours * rate, entry.currency).amount
    if entry.billed_amount is not None:
        quantity, unit_price = exact_line(entry.hours, entry.billed_amount)
        return PricedEntry(quantity, unit_price, rate, standard, entry.billed_amount)
    hours = entry.billed_hours if entry.billed_hours is not None else entry.hours
    return PricedEntry(hours, rate, rate, standard, round_money(hours * rate, entry.currency).amount)


def expense_amount(expense: Expense) -> Decimal:
    """Cost * (1 + markup), at the currency's minor unit."""
    cost = expense.quantity * expense.unit_cost * (1 + expense.markup_percent / 100)
    return round_money(cost, expense.currency).amount


def _reference(entry: TimeEntry | Expense) -> str:
    matter = entry.matter
    return (f"matter {matter.number}" + (f" · PO {matter.po_number}" if matter.po_number else ""))[
        :REFERENCE_LENGTH
    ]


def _codes(*codes: object) -> str:
    return "/".join(str(code) for code in codes if code)


def time_billable(entry: TimeEntry, book: RateBook) -> Billable:
    """The invoice line of an approved entry, or the reason it cannot be billed."""
    tk = entry.timekeeper
    task = entry.task_code.code if entry.task_code else ""
    activity = entry.activity_code.code if entry.activity_code else ""
    text = " ".join(part for part in (entry.worked_on.isoformat(), tk.code, _codes(task, activity)) if part)
    description = f"{text}: {entry.narrative}"[:DESCRIPTION_LENGTH]
    hours = LineData(
        quantity=entry.hours, description=description, product_code=entry.matter.fee_product.code,
        unit="hour", service_start=entry.worked_on, service_end=entry.worked_on, reference=_reference(entry),
    )  # fmt: skip
    group = f"matter {entry.matter.number}"
    rate = book.rate_for(entry)
    if rate is None:
        return Billable(
            "time", entry.pk, entry.customer_id, entry.worked_on, hours,
            problem=f"no hourly rate for timekeeper {tk.code} on matter {entry.matter.number} on "
            f"{entry.worked_on.isoformat()}",
            problem_field="rate", group=group,
        )  # fmt: skip
    priced = price_entry(entry, rate.hourly_rate)
    unit = "each" if entry.billed_amount is not None and priced.quantity != entry.hours else "hour"
    line = replace(hours, quantity=priced.quantity, unit_price=priced.unit_price, unit=unit)
    return Billable(
        "time", entry.pk, entry.customer_id, entry.worked_on, line, source_ref=rate.hourly_rate, group=group
    )


def expense_billable(expense: Expense) -> Billable:
    """The invoice line of an approved expense: quantity * (unit cost + markup) is exactly its amount."""
    quantity, unit_price = exact_line(expense.quantity, expense_amount(expense))
    code = expense.expense_code.code if expense.expense_code else ""
    markup = f" + {plain_decimal(expense.markup_percent)} %" if expense.markup_percent else ""
    text = " ".join(part for part in (expense.incurred_on.isoformat(), code) if part)
    line = LineData(
        quantity=quantity, unit_price=unit_price, product_code=expense.matter.expense_product.code,
        description=f"{text}: {expense.description}{markup}"[:DESCRIPTION_LENGTH],
        service_start=expense.incurred_on, service_end=expense.incurred_on, reference=_reference(expense),
    )  # fmt: skip
    return Billable(
        "expense", expense.pk, expense.customer_id, expense.incurred_on, line,
        group=f"matter {expense.matter.number}",
    )  # fmt: skip


def _approved(
    rows: QuerySet[Work], customer_ids: Collection[int] | None, matter_ids: Collection[int] | None, lock: bool
) -> QuerySet[Work]:
    rows = rows.filter(status=WorkStatus.APPROVED)
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=customer_ids)
    if matter_ids is not None:
        rows = rows.filter(matter_id__in=matter_ids)
    return rows.select_for_update(of=("self",)) if lock else rows


def approved_time_entries(
    up_to: date,
    customer_ids: Collection[int] | None = None,
    lock: bool = False,
    matter_ids: Collection[int] | None = None,
) -> list[TimeEntry]:
    """Approved, unbilled time worked up to a day, oldest first, in one query."""
    entries = _approved(TimeEntry.objects.filter(worked_on__lte=up_to), customer_ids, matter_ids, lock)
    related = entries.select_related("timekeeper", "matter__fee_product", "task_code", "activity_code")
    return list(related.order_by("worked_on", "pk"))


def approved_time(
    up_to: date,
    customer_ids: Collection[int] | None = None,
    lock: bool = False,
    matter_ids: Collection[int] | None = None,
) -> list[Billable]:
    """Approved, unbilled time worked up to a day, priced: two queries, the entries and the rates."""
    entries = approved_time_entries(up_to, customer_ids, lock, matter_ids)
    if not entries:
        return []
    book = RateBook.load(up_to=up_to, customer_ids=customer_ids)
    return [time_billable(entry, book) for entry in entries]


def approved_expenses(
    up_to: date,
    customer_ids: Collection[int] | None = None,
    lock: bool = False,
    matter_ids: Collection[int] | None = None,
) -> list[tuple[Expense, Billable]]:
    """Approved, unbilled expenses incurred up to a day, oldest first, priced: one query."""
    expenses = _approved(Expense.objects.filter(incurred_on__lte=up_to), customer_ids, matter_ids, lock)
    related = expenses.select_related("matter__expense_product", "expense_code")
    return [(expense, expense_billable(expense)) for expense in related.order_by("incurred_on", "pk")]
