"""Reads of metered usage: metrics, charges, events, and each charge's usage summed up by month.

`monthly_figures` sums a set of charges' events by (charge, month) in one grouped query, plus one more
for `latest` metrics; bill runs and the current-month view both read usage through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Max, QuerySet, Sum, Value, Window
from django.db.models.functions import Coalesce, Greatest, Least, RowNumber

from billops.access import clock
from billops.core.calendars import month_end, month_start
from billops.core.db import MonthStart, given
from billops.core.errors import NotFound
from billops.customers.selectors import get_customer
from billops.usage.models import BillableMetric, UsageCharge, UsageEvent
from billops.usage.rating import Figures, Terms, Tier, quantity_of, rate

EVENTS = "metric__events"  # a charge's events: those of its metric and customer, joined in `_joined`


def list_metrics() -> QuerySet[BillableMetric]:
    return BillableMetric.objects.all()


def list_usage_charges(
    *, customer_id: int | None = None, metric_code: str = "", active_on: date | None = None
) -> QuerySet[UsageCharge]:
    """Charges by customer and metric; `active_on` keeps those running on that day."""
    charges = UsageCharge.objects.select_related("customer", "metric", "product").filter(
        **given(customer_id=customer_id, metric__code=metric_code.strip().upper())
    )
    if active_on is not None:
        charges = charges.filter(start_date__lte=active_on).exclude(end_date__lt=active_on)
    return charges


def get_usage_charge(charge_id: int) -> UsageCharge:
    charge = list_usage_charges().filter(pk=charge_id).first()
    if charge is None:
        raise NotFound(f"there is no usage charge {charge_id}", field="charge_id")
    return charge


def list_events(
    *,
    customer_id: int | None = None,
    metric_code: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[UsageEvent]:
    """Events, latest first; `since` and `until` bound the day of use (both inclusive)."""
    return UsageEvent.objects.select_related("customer", "metric").filter(
        **given(
            customer_id=customer_id,
            metric__code=metric_code.strip().upper(),
            used_on__gte=since,
            used_on__lte=until,
        )
    )


def terms_of(charge: UsageCharge) -> Terms:
    """The charge's model and prices, as rating reads them."""
    tiers = tuple(
        Tier(
            up_to=None if tier["up_to"] is None else Decimal(tier["up_to"]),
            unit_price=Decimal(tier["unit_price"]),
            flat_fee=Decimal(tier["flat_fee"]),
        )
        for tier in charge.tiers
    )
    return Terms(
        model=charge.model, unit_price=charge.unit_price or Decimal(0), tiers=tiers,
        package_size=charge.package_size or Decimal(1), package_price=charge.package_price or Decimal(0),
        percentage=charge.percentage or Decimal(0), fixed_fee=charge.fixed_fee or Decimal(0),
    )  # fmt: skip


def _joined(charges: QuerySet[UsageCharge], since: date | None, until: date) -> QuerySet[UsageCharge]:
    """The charges, one row per event of theirs within the charge's days and `since`…`until`. One
    filter() call, so that every condition holds for the same joined event."""
    first = Greatest(F("start_date"), Value(since)) if since else F("start_date")
    return charges.filter(
        metric__events__customer_id=F("customer_id"),
        metric__events__used_on__gte=first,
        metric__events__used_on__lte=Least(Coalesce(F("end_date"), Value(until)), Value(until)),
    )


def monthly_figures(
    charges: QuerySet[UsageCharge], *, until: date, since: date | None = None, with_latest: bool = True
) -> dict[tuple[int, date], Figures]:
    """Each charge's usage by month (its first day), from the charge's start (or `since`) to `until`,
    for the months with events: one query, and one more `with_latest` (when a charge's metric is a
    `latest`), whatever the number of charges and events."""
    base = charges.order_by().select_related(None)
    month = MonthStart(f"{EVENTS}__used_on")
    rows = (
        _joined(base, since, until)
        .values("pk", month=month)
        .annotate(
            events=Count(f"{EVENTS}__id"),
            total=Sum(f"{EVENTS}__value"),
            highest=Max(f"{EVENTS}__value"),
            distinct=Count(f"{EVENTS}__unique_value", distinct=True),
        )
    )
    latest: dict[tuple[int, date], Decimal] = {}
    if with_latest:
        ranked = (
            _joined(base.filter(metric__aggregation=BillableMetric.Aggregation.LATEST), since, until)
            .annotate(
                month=month,
                rank=Window(
                    RowNumber(),
                    partition_by=[F("pk"), month],
                    order_by=[F(f"{EVENTS}__timestamp").desc(), F(f"{EVENTS}__id").desc()],
                ),
            )
            .filter(rank=1)
            .values_list("pk", "month", f"{EVENTS}__value")
        )
        latest = {(pk, on): value for pk, on, value in ranked}
    return {
        (row["pk"], row["month"]): Figures(
            events=row["events"],
            total=row["total"] or Decimal(0),
            highest=row["highest"] or Decimal(0),
            distinct=row["distinct"],
            latest=latest.get((row["pk"], row["month"]), Decimal(0)),
        )
        for row in rows
    }


@dataclass(frozen=True)
class CurrentUsage:
    charge: UsageCharge
    month: date
    quantity: Decimal
    events: int
    amount: Decimal  # rated, in the charge's currency; not billed yet


def current_usage(customer_id: int) -> list[CurrentUsage]:
    """This month's usage of each of the customer's charges running this month, rated as a run at the
    month's end would rate it (if no more events came)."""
    get_customer(customer_id)  # NotFound for no such customer
    today = clock.today()
    start, end = month_start(today), month_end(today)
    charges = (
        list_usage_charges(customer_id=customer_id).filter(start_date__lte=end).exclude(end_date__lt=start)
    )
    latest = any(charge.metric.aggregation == BillableMetric.Aggregation.LATEST for charge in charges)
    figures = monthly_figures(charges, since=start, until=end, with_latest=latest)
    found = []
    for charge in charges:
        month = figures.get((charge.pk, start), Figures(0, Decimal(0), Decimal(0), 0, Decimal(0)))
        quantity = quantity_of(charge.metric.aggregation, month)
        amount = rate(terms_of(charge), quantity, month.events, charge.currency)
        found.append(CurrentUsage(charge, start, quantity, month.events, amount))
    return found
