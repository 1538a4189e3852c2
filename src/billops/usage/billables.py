"""Usage as billable work: each charge's months, billed in arrears by the run of the month, and late
events by the difference.

For each (charge, month) that ended by the run's last day, `pending` rates all the month's events as
they are now and subtracts what was billed for that month so far (`UsagePeriodBilling`, one row per
billing). When that leaves more to bill (a higher amount, or more usage at no charge), the difference is
an item keyed `usage:<charge>:<month>` for the first billing and `usage:<charge>:<month>:<n>` for the
n-th. Nothing marks events, so an event that arrives late, even while a run is billing its month, is
simply in the next run's difference: never lost, never billed twice.

A month whose usage went down after it was billed (a volume tier, a lower latest value) bills nothing:
an invoice line cannot be negative, and the month stays billed at what was invoiced (a credit note
corrects it by hand).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import cast

from django.db.models import Max, Q, Sum

from billops.billing.services.billables import Billable, BilledKey
from billops.catalog.display import plain_decimal
from billops.core.calendars import is_month_end, month_end, month_start
from billops.core.db import insert_rows
from billops.invoicing.services.lines import LineData
from billops.usage.models import BillableMetric, UsageCharge, UsagePeriodBilling
from billops.usage.rating import Terms, line_figures, quantity_of, rate
from billops.usage.selectors import monthly_figures, terms_of

KIND = "usage"


@dataclass(frozen=True, slots=True)
class Difference:
    """What an item bills of its charge's month: recorded as one `UsagePeriodBilling` once billed."""

    month: date  # its first day
    part: int
    quantity: Decimal
    amount: Decimal
    events: int
    currency: str


@dataclass(frozen=True, slots=True)
class Billed:
    parts: int  # the highest part billed: a month's part 1 may be gone (its draft deleted) and part 2 kept
    quantity: Decimal
    amount: Decimal
    events: int


NOTHING_BILLED = Billed(0, Decimal(0), Decimal(0), 0)


def _last_full_day(up_to: date) -> date:
    """Usage is billed by whole months: the last day of the last month that ended by `up_to`."""
    return up_to if is_month_end(up_to) else month_start(up_to) - timedelta(days=1)


def pending(up_to: date, customer_ids: Collection[int] | None, lock: bool) -> list[Billable]:
    """The usage of each charge's months ended by `up_to` not billed yet, or billed for less. Three or
    four queries, whatever the number of customers, charges and events."""
    until = _last_full_day(up_to)
    charges = UsageCharge.objects.filter(start_date__lte=until)
    if customer_ids is not None:
        charges = charges.filter(customer_id__in=customer_ids)
    loaded = charges.select_related("metric", "product")
    if lock:
        loaded = loaded.select_for_update(of=("self",))
    by_pk = {charge.pk: charge for charge in loaded}
    if not by_pk:
        return []
    latest = any(charge.metric.aggregation == BillableMetric.Aggregation.LATEST for charge in by_pk.values())
    figures = monthly_figures(charges, until=until, with_latest=latest)
    billed = {
        (row["charge_id"], row["month"]): Billed(row["parts"], row["quantity"], row["amount"], row["events"])
        for row in UsagePeriodBilling.objects.filter(charge__in=charges)
        .values("charge_id", "month")
        .annotate(parts=Max("part"), quantity=Sum("quantity"), amount=Sum("amount"), events=Sum("events"))
    }
    items = []
    terms_by_charge: dict[int, Terms] = {}
    for (charge_id, month), month_figures in sorted(figures.items()):
        before = billed.get((charge_id, month), NOTHING_BILLED)
        if before.parts and before.events == month_figures.events:
            continue  # no event since it was billed (events are never changed, nor removed)
        charge = by_pk[charge_id]
        if charge_id not in terms_by_charge:
            terms_by_charge[charge_id] = terms_of(charge)
        terms = terms_by_charge[charge_id]
        quantity = quantity_of(charge.metric.aggregation, month_figures)
        amount = rate(terms, quantity, month_figures.events, charge.currency)
        more_amount, more_quantity = amount - before.amount, quantity - before.quantity
        if more_amount > 0 or (more_amount == 0 and more_quantity > 0):
            difference = Difference(
                month,
                before.parts + 1,
                more_quantity,
                more_amount,
                month_figures.events - before.events,
                charge.currency,
            )
            items.append(_item(charge, terms, month, difference))
    return items


def _item(charge: UsageCharge, terms: Terms, month: date, difference: Difference) -> Billable:
    metric = charge.metric
    first, last = max(month, charge.start_date), min(month_end(month), charge.end_date or month_end(month))
    usage = f"{_grouped(difference.quantity)} {metric.unit}"
    if difference.part > 1:
        usage = f"late-usage adjustment, {'+' if difference.quantity >= 0 else ''}{usage}"
    figures = line_figures(terms, difference.quantity, difference.amount)
    if figures is None:  # one lump sum: the usage is in the text
        quantity, unit_price, unit = Decimal(1), difference.amount, "month"
        description = f"{metric.name}, {month:%B %Y}: {usage}"
    else:
        quantity, unit_price = figures
        unit = metric.unit if terms.model == "per_unit" else "package"
        description = f"{metric.name}, {month:%B %Y}" + (
            f": {usage}" if difference.part > 1 or terms.model == "package" else ""
        )
    line = LineData(
        quantity=quantity, description=description, product_code=charge.product.code, unit=unit,
        unit_price=unit_price, service_start=first, service_end=last,
    )  # fmt: skip
    return Billable(
        KIND, charge.pk, charge.customer_id, last, line, period=month,
        part="" if difference.part == 1 else str(difference.part), source_ref=difference,
    )  # fmt: skip


def _grouped(quantity: Decimal) -> str:
    """12345.5 → "12 345.5": thousands apart, as on a printed invoice."""
    whole, _, fraction = plain_decimal(abs(quantity)).partition(".")
    text = ("-" if quantity < 0 else "") + f"{int(whole):,}".replace(",", " ")
    return f"{text}.{fraction}" if fraction else text


def mark_billed(items: Sequence[Billable]) -> None:
    """The items are on an issued invoice: record what each billed of its charge's month (one insert)."""
    rows = []
    for item in items:
        difference = cast(Difference, item.source_ref)
        rows.append(
            UsagePeriodBilling(
                charge_id=item.id,
                customer_id=item.customer_id,
                month=difference.month,
                part=difference.part,
                quantity=difference.quantity,
                amount=difference.amount,
                currency=difference.currency,
                events=difference.events,
            )
        )
    insert_rows(rows)


def release(keys: Sequence[BilledKey]) -> None:
    """A draft with these items was deleted: its months are billed for that much less, so the next run
    bills the difference again (as the next part, never under a key that is still recorded)."""
    found = Q(pk__in=[])
    for key in keys:
        found |= Q(charge_id=key.id, month=key.period, part=int(key.part or 1))
    UsagePeriodBilling.objects.filter(found).delete()
