"""The collector's worklist: the customers with something overdue, most urgent first, with the reasons.

Priority adds points a collector can check on the page:
- the overdue amount, on a log scale (100 → 20, 1 000 → 30, 10 000 → 40 at most), so that a large debt
  comes first in any currency without converting;
- its age: 10 points per bucket, weighted by the amount in each (all of it 1-30 days late → 10; all of it
  over 90 → 40);
- each promise broken in the last 180 days: 15 (at most 30);
- each open dispute: 5 (at most 15);
- the customer on credit hold, or owing more than its credit limit: 10.

Today's list holds the customers with something overdue whose next action is due (no date, or today or
earlier) and who are not waiting on an open promise; one customer appears once per currency it owes in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count

from billops.collections.hooks import open_dispute_counts
from billops.collections.models import CollectionProfile, PromiseToPay
from billops.collections.selectors.aging import AgingRow, aging, parse_buckets
from billops.customers.models import Customer

BROKEN_PROMISE_WINDOW = timedelta(days=180)


@dataclass
class WorkItem:
    customer: Customer
    currency: str
    open_amount: Decimal
    overdue: Decimal
    age_points: int
    broken_promises: int = 0
    open_disputes: int = 0
    open_promise: PromiseToPay | None = None
    profile: CollectionProfile | None = None
    reasons: list[str] = field(default_factory=list)
    priority: int = 0

    @property
    def next_action_on(self) -> date | None:
        return self.profile.next_action_on if self.profile else None

    @property
    def next_action(self) -> str:
        return self.profile.next_action if self.profile else ""

    @property
    def collector_id(self) -> int | None:
        return self.profile.collector_id if self.profile else None

    def is_due(self, today: date) -> bool:
        """On today's list: its next action is due and it is not waiting on a promise."""
        waiting = self.open_promise is not None and self.open_promise.promised_on >= today
        return not waiting and (self.next_action_on is None or self.next_action_on <= today)


def _age_points(row: AgingRow) -> int:
    """10 points per bucket past due, weighted by the overdue amount in each."""
    overdue = row.buckets[1:]
    total = sum(overdue, Decimal(0))
    if total <= 0:
        return 0
    weighted = sum((amount * index for index, amount in enumerate(overdue, start=1)), Decimal(0))
    return round(10 * weighted / total)


def _score(item: WorkItem) -> None:
    amount_points = min(40, round(10 * math.log10(1 + float(item.overdue))))  # points, not money
    promise_points = min(30, 15 * item.broken_promises)
    dispute_points = min(15, 5 * item.open_disputes)
    customer = item.customer
    risky = customer.credit_hold or (0 < customer.credit_limit < item.open_amount)
    item.priority = amount_points + item.age_points + promise_points + dispute_points + (10 if risky else 0)
    item.reasons = [
        f"{item.overdue} {item.currency} overdue: {amount_points}",
        f"age: {item.age_points}",
    ]
    if item.broken_promises:
        plural = "s" if item.broken_promises > 1 else ""
        item.reasons.append(f"{item.broken_promises} broken promise{plural}: {promise_points}")
    if item.open_disputes:
        plural = "s" if item.open_disputes > 1 else ""
        item.reasons.append(f"{item.open_disputes} open dispute{plural}: {dispute_points}")
    if customer.credit_hold:
        item.reasons.append("on credit hold: 10")
    elif risky:
        item.reasons.append("over its credit limit: 10")


def worklist(
    *, today: date, collector_id: int | None = None, due_only: bool = True, currency: str | None = None
) -> list[WorkItem]:
    """The customers with something overdue today (of one collector, or everyone's), most urgent first;
    `due_only` keeps today's list (next action due, no promise pending)."""
    rows = [
        row
        for row in aging(
            as_of=today, group="customer", buckets=parse_buckets(None), currency=currency,
            collector_id=collector_id,
        ).rows
        if row.overdue > 0
    ]  # fmt: skip
    customer_ids = [row.key for row in rows if row.key is not None]
    customers = Customer.objects.in_bulk(customer_ids)
    profiles = {
        profile.customer_id: profile
        for profile in CollectionProfile.objects.filter(customer_id__in=customer_ids)
    }
    promises = {
        promise.customer_id: promise
        for promise in PromiseToPay.objects.filter(
            customer_id__in=customer_ids, status=PromiseToPay.Status.OPEN
        )
    }
    broken = dict(
        PromiseToPay.objects.filter(
            customer_id__in=customer_ids,
            status=PromiseToPay.Status.BROKEN,
            decided_on__gte=today - BROKEN_PROMISE_WINDOW,
        )
        .values("customer_id")
        .annotate(count=Count("pk"))
        .values_list("customer_id", "count")
    )
    disputes = open_dispute_counts(customer_ids)
    items = []
    for row in rows:
        assert row.key is not None  # grouped by customer
        item = WorkItem(
            customer=customers[row.key], currency=row.currency, open_amount=row.total, overdue=row.overdue,
            age_points=_age_points(row), broken_promises=broken.get(row.key, 0),
            open_disputes=disputes.get(row.key, 0), open_promise=promises.get(row.key),
            profile=profiles.get(row.key),
        )  # fmt: skip
        _score(item)
        if not due_only or item.is_due(today):
            items.append(item)
    items.sort(key=lambda item: (-item.priority, -item.overdue, item.customer.account_number))
    return items
