"""Aging of receivables as of any day, from the subledger's dated history (`OpenItemMovement`): what each
item had open that day, in buckets by how many days past its due date (or its invoice date) it was.

One query groups the movements up to the day by the rows asked for (customer, collector, entity or
currency) and sums each bucket with a CASE on the item's date, so a past day is reproduced from history,
not from today's open amounts, and a million invoices take one pass over the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, Q, QuerySet, Sum, When

from billops.core.errors import InvalidInput
from billops.core.money import amount_rounder, round_money
from billops.customers.models import OpenItemMovement

BASES = ("due", "invoice")  # age from the due date, or from the invoice date
GROUPS = ("customer", "collector", "entity", "currency")
GROUP_COLUMNS = {
    "customer": "customer_id",
    "collector": "customer__collection_profile__collector_id",
    "entity": "entity_id",
    "currency": None,
}
MOST_BUCKETS = 8


@dataclass(frozen=True, slots=True)
class Buckets:
    """Bucket limits in days, ascending: (30, 60, 90) gives current, 1-30, 31-60, 61-90 and over 90 by due
    date; by invoice date there is no "current": 0-30, 31-60, 61-90, over 90."""

    limits: tuple[int, ...] = (30, 60, 90)
    basis: str = "due"

    @property
    def labels(self) -> list[str]:
        labels = ["Current"] if self.basis == "due" else []
        low = 1 if self.basis == "due" else 0
        for limit in self.limits:
            labels.append(f"{low}-{limit}")
            low = limit + 1
        return [*labels, f"Over {self.limits[-1]}"]

    def ranges(self, as_of: date) -> list[Q]:
        """Per bucket, the condition on the item's date (its due date or invoice date) as of the day."""
        column = "due_on" if self.basis == "due" else "document_on"
        ages: list[tuple[int | None, int | None]] = [(None, 0)] if self.basis == "due" else []
        low = 1 if self.basis == "due" else None
        for limit in self.limits:
            ages.append((low, limit))
            low = limit + 1
        ages.append((low, None))
        conditions = []
        for youngest, oldest in ages:  # age = as_of - date, in days
            condition = Q()
            if youngest is not None:
                condition &= Q(**{f"{column}__lte": as_of - timedelta(days=youngest)})
            if oldest is not None:
                condition &= Q(**{f"{column}__gte": as_of - timedelta(days=oldest)})
            conditions.append(condition)
        return conditions


def parse_buckets(text: str | None, basis: str = "due") -> Buckets:
    """Bucket limits from "30,60,90" (ascending whole days, at most eight); None or empty: the setting
    BILLOPS_AGING_BUCKETS, "30,60,90" unless the operator says otherwise."""
    if basis not in BASES:
        raise InvalidInput(f"basis must be one of {', '.join(BASES)}, not {basis!r}", field="basis")
    text = text or settings.AGING_BUCKETS
    try:
        limits = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InvalidInput(
            f"buckets are whole days separated by commas, like 30,60,90, not {text!r}", field="buckets"
        ) from None
    if not 1 <= len(limits) <= MOST_BUCKETS or limits[0] < 1 or list(limits) != sorted(set(limits)):
        raise InvalidInput(
            f"buckets are 1 to {MOST_BUCKETS} ascending limits in days, like 30,60,90; not {text!r}",
            field="buckets",
        )
    return Buckets(limits, basis)


@dataclass
class AgingRow:
    """One row of the aging: a customer, collector, entity or the whole currency, in one currency."""

    key: int | None  # the customer's, collector's or entity's id; None for a currency row or nobody
    currency: str
    buckets: list[Decimal]
    total: Decimal = field(init=False)

    def __post_init__(self) -> None:
        self.total = sum(self.buckets, Decimal(0))

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets[0]


@dataclass
class Aging:
    as_of: date
    group: str
    buckets: Buckets
    rows: list[AgingRow]

    def totals(self) -> list[AgingRow]:
        """Per currency, the sum of the rows: amounts in different currencies are never added."""
        by_currency: dict[str, list[Decimal]] = {}
        for row in self.rows:
            sums = by_currency.setdefault(row.currency, [Decimal(0)] * len(row.buckets))
            by_currency[row.currency] = [
                total + amount for total, amount in zip(sums, row.buckets, strict=True)
            ]
        return [AgingRow(None, currency, sums) for currency, sums in sorted(by_currency.items())]


def movements_until(
    as_of: date,
    *,
    currency: str | None = None,
    customer_id: int | None = None,
    collector_id: int | None = None,
    entity_id: int | None = None,
) -> QuerySet[OpenItemMovement]:
    """The subledger's movements up to and including the day, narrowed as asked."""
    movements = OpenItemMovement.objects.filter(moved_on__lte=as_of)
    if currency:
        movements = movements.filter(currency=currency)
    if customer_id is not None:
        movements = movements.filter(customer_id=customer_id)
    if collector_id is not None:
        movements = movements.filter(customer__collection_profile__collector_id=collector_id)
    if entity_id is not None:
        movements = movements.filter(entity_id=entity_id)
    return movements


def bucket_sums(buckets: Buckets, as_of: date) -> dict[str, Any]:
    """A sum per bucket, in the form each database aggregates fastest: `SUM(…) FILTER (WHERE …)` on
    PostgreSQL, `SUM(CASE WHEN … THEN … END)` on SQLite (measured in bench/aging.py)."""
    conditions = enumerate(buckets.ranges(as_of))
    if connection.vendor == "postgresql":
        return {f"b{index}": Sum("amount", filter=condition) for index, condition in conditions}
    return {f"b{index}": Sum(Case(When(condition, then="amount"))) for index, condition in conditions}


def aging(
    *,
    as_of: date,
    group: str = "customer",
    buckets: Buckets | None = None,
    currency: str | None = None,
    customer_id: int | None = None,
    collector_id: int | None = None,
    entity_id: int | None = None,
) -> Aging:
    """What was open on `as_of`, per group and currency, by age; rows with nothing open are left out."""
    if group not in GROUPS:
        raise InvalidInput(f"group must be one of {', '.join(GROUPS)}, not {group!r}", field="group")
    buckets = buckets or parse_buckets(None)
    column = GROUP_COLUMNS[group]
    keys = [column, "currency"] if column else ["currency"]
    movements = movements_until(
        as_of, currency=currency, customer_id=customer_id, collector_id=collector_id, entity_id=entity_id
    )
    sums = movements.values(*keys).annotate(**bucket_sums(buckets, as_of)).order_by()
    count = len(buckets.ranges(as_of))
    rows = []
    rounders: dict[str, Callable[[Decimal | None], Decimal]] = {}
    for row in sums.values_list(*keys, *(f"b{index}" for index in range(count))):
        key, row_currency, amounts = (row[0], row[1], row[2:]) if column else (None, row[0], row[1:])
        rounder = rounders.get(row_currency) or rounders.setdefault(
            row_currency, amount_rounder(row_currency)
        )
        rounded = [rounder(amount) for amount in amounts]
        if any(rounded):
            rows.append(AgingRow(key, row_currency, rounded))
    return Aging(as_of=as_of, group=group, buckets=buckets, rows=rows)


@dataclass(frozen=True, slots=True)
class AgedItem:
    """An item open on the day: which one, its dates, what it had open, and its bucket."""

    kind: str
    item_id: int
    customer_id: int
    currency: str
    document_on: date
    due_on: date
    open_amount: Decimal
    bucket: int
    days_overdue: int


def aged_items(
    *,
    as_of: date,
    buckets: Buckets | None = None,
    customer_id: int | None = None,
    currency: str | None = None,
    bucket: int | None = None,
    limit: int = 1000,
) -> list[AgedItem]:
    """The drill-down: each item open on the day (oldest due first), narrowed to a customer, currency or
    bucket; at most `limit` of them."""
    buckets = buckets or parse_buckets(None)
    conditions = buckets.ranges(as_of)
    if bucket is not None and not 0 <= bucket < len(conditions):
        raise InvalidInput(f"bucket must be 0 to {len(conditions) - 1}, not {bucket}", field="bucket")
    movements = movements_until(as_of, currency=currency, customer_id=customer_id)
    if bucket is not None:
        movements = movements.filter(conditions[bucket])
    items = (
        movements.values("item_kind", "item_id", "customer_id", "currency", "document_on", "due_on")
        .annotate(open=Sum("amount"))
        .exclude(open=0)
        .order_by("due_on", "item_id")
    )
    column = "due_on" if buckets.basis == "due" else "document_on"
    found = []
    for item in items:
        open_amount = round_money(item["open"], item["currency"]).amount
        if not open_amount:
            continue
        found.append(
            AgedItem(
                kind=item["item_kind"], item_id=item["item_id"], customer_id=item["customer_id"],
                currency=item["currency"], document_on=item["document_on"], due_on=item["due_on"],
                open_amount=open_amount, bucket=_bucket_of(item[column], as_of, buckets),
                days_overdue=max((as_of - item["due_on"]).days, 0),
            )
        )  # fmt: skip
        if len(found) == limit:
            break
    return found


def _bucket_of(day: date, as_of: date, buckets: Buckets) -> int:
    age = (as_of - day).days
    first = 1 if buckets.basis == "due" else 0
    if buckets.basis == "due" and age <= 0:
        return 0
    for index, limit in enumerate(buckets.limits):
        if age <= limit:
            return first + index
    return first + len(buckets.limits)
