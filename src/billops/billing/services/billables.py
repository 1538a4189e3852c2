"""What bill runs bill: each kind of billable work that is pending up to a day, as invoice lines.

Each item has a key (`charge:12`, `delivery:7`, `subscription:3:2026-04-15`) that the run records once
billed: the database refuses the same key twice. Charges and deliveries say themselves whether they are
billed; a subscription's period is pending until its key is recorded.

Charges, deliveries and subscriptions are built in. Other apps add their kind of work (usage, time and
expense) with `register_source` from their `AppConfig.ready()`: a function listing what is pending and
one marking items billed, called inside the billing transaction.

A run of the month ending on `up_to` bills subscription periods in arrears once they have ended by
then, and in advance once they start by the end of the following month: the March run (invoices dated
1 April) bills April's and the rest of March's advance fees, and the periods that ended in March.
Free trial periods make no line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from billops.billing.models import BilledItem, Charge, Delivery, Plan, Subscription
from billops.billing.periods import Period, Phase, periods
from billops.billing.services.subscriptions import phases_of
from billops.core.calendars import add_months, month_end, month_start
from billops.invoicing.services.lines import LineData

REFERENCE_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Billable:
    kind: str  # "charge", "delivery", "subscription", or a registered source's kind
    id: int
    customer_id: int
    on: date  # the day the work was done: an invoice lists its lines in this order
    line: LineData

    period: date | None = None  # a period's start (subscriptions, usage)
    part: str = ""  # tells apart items of one id and period, e.g. a later adjustment ("2")
    # what its source needs to mark it billed (e.g. the last usage event priced); not part of the key
    source_ref: object = None
    # why it cannot be billed (no rate for a timekeeper, …): the run lists its customer as an exception
    problem: str = ""
    problem_field: str = ""
    # items of different groups ("matter:4") go on separate invoices for customers invoiced per group
    group: str = ""

    @property
    def key(self) -> str:
        period = f":{self.period.isoformat()}" if self.period else ""
        return f"{self.kind}:{self.id}{period}" + (f":{self.part}" if self.part else "")


# pending(up_to, customer_ids or None for all, lock) → the source's pending items
PendingFunction = Callable[[date, Collection[int] | None, bool], Iterable[Billable]]
MarkBilledFunction = Callable[[Sequence[Billable]], None]


@dataclass(frozen=True, slots=True)
class Source:
    pending: PendingFunction
    mark_billed: MarkBilledFunction


SOURCES: dict[str, Source] = {}


def register_source(kind: str, pending: PendingFunction, mark_billed: MarkBilledFunction) -> None:
    """Let bill runs bill another kind of work. `pending` lists the items not yet billed up to a day
    (for some customers, or all); with `lock` it is inside the billing transaction and must keep other
    runs off the rows it read. `mark_billed` is called in the same transaction once the items are on
    an issued invoice."""
    SOURCES[kind] = Source(pending, mark_billed)


def _charge(charge: Charge) -> Billable:
    """A charge at the price it was captured with."""
    line = LineData(
        quantity=charge.quantity, description=charge.description,
        product_code=charge.product.code if charge.product else "", unit=charge.unit,
        unit_price=charge.unit_price, tax_code=charge.tax_code.code, service_start=charge.service_start,
        service_end=charge.service_end, reference=charge.reference,
    )  # fmt: skip
    return Billable("charge", charge.pk, charge.customer_id, charge.charge_date, line)


def _delivery(delivery: Delivery) -> Billable:
    """What a delivery delivered, at its order line's price, referring to the order, PO and delivery note."""
    order_line, order = delivery.line, delivery.line.order
    references = [
        f"order {order.number}",
        f"PO {order.po_number}" if order.po_number else "",
        delivery.reference,
    ]
    line = LineData(
        quantity=delivery.quantity, description=order_line.description, product_code=order_line.product.code,
        unit=order_line.unit, unit_price=order_line.unit_price, tax_code=order_line.tax_code.code,
        service_start=delivery.delivered_on, service_end=delivery.delivered_on,
        reference=" · ".join(text for text in references if text)[:REFERENCE_LENGTH],
    )  # fmt: skip
    return Billable("delivery", delivery.pk, delivery.customer_id, delivery.delivered_on, line)


def _subscription_periods(up_to: date, customer_ids: Collection[int] | None) -> list[Billable]:
    """The periods of every subscription due by the run of the month ending `up_to` and not yet billed."""
    advance_until = month_end(add_months(month_start(up_to), 1))
    subscriptions = Subscription.objects.select_related("plan__product", "plan__product__tax_code").filter(
        Q(status=Subscription.Status.ACTIVE) | Q(end_date__isnull=False), start_date__lte=advance_until
    )
    if customer_ids is not None:
        subscriptions = subscriptions.filter(customer_id__in=customer_ids)
    phases: dict[int, list[Phase]] = {}
    due = []
    for subscription in subscriptions:
        plan = subscription.plan
        if plan.pk not in phases:
            phases[plan.pk] = phases_of(plan)
        advance = plan.timing == Plan.Timing.ADVANCE
        for period in periods(
            start=subscription.start_date, interval_months=plan.interval_months, phases=phases[plan.pk],
            until=advance_until if advance else up_to, end=subscription.end_date,
        ):  # fmt: skip
            if period.phase.unit_price and (advance or period.end <= up_to):
                due.append(_period(subscription, period))
    billed = set(BilledItem.objects.filter(key__in=[item.key for item in due]).values_list("key", flat=True))
    return [item for item in due if item.key not in billed]


def _period(subscription: Subscription, period: Period) -> Billable:
    plan = subscription.plan
    phase = "" if period.phase.kind == "evergreen" else f", {period.phase.kind} price"
    line = LineData(
        quantity=subscription.quantity, description=f"{plan.name}{phase}", product_code=plan.product.code,
        unit_price=period.phase.unit_price, tax_code=plan.product.tax_code.code, service_start=period.start,
        service_end=period.end, reference=f"PO {subscription.po_number}" if subscription.po_number else "",
    )  # fmt: skip
    return Billable(
        "subscription", subscription.pk, subscription.customer_id, period.start, line, period.start
    )


def pending(
    up_to: date, *, customer_ids: Collection[int] | None = None, lock: bool = False
) -> dict[int, list[Billable]]:
    """Each customer's work pending by the run of the month ending `up_to`, oldest first. `lock` (with
    `customer_ids`, inside the billing transaction) keeps other runs off its charges and deliveries until
    the transaction ends; a subscription period has no row to lock: the customer's row lock, taken first
    by every run, and its billed-item key guard it."""
    charges = Charge.objects.filter(status=Charge.Status.PENDING, charge_date__lte=up_to)
    deliveries = Delivery.objects.filter(status=Delivery.Status.PENDING, delivered_on__lte=up_to)
    if customer_ids is not None:
        charges, deliveries = (
            charges.filter(customer_id__in=customer_ids),
            deliveries.filter(customer_id__in=customer_ids),
        )
    if lock:
        charges, deliveries = (
            charges.select_for_update(of=("self",)),
            deliveries.select_for_update(of=("self",)),
        )
    found: list[Billable] = [
        *_subscription_periods(up_to, customer_ids),
        *(_charge(charge) for charge in charges.select_related("product", "tax_code")),
        *(
            _delivery(delivery)
            for delivery in deliveries.select_related("line__order", "line__product", "line__tax_code")
        ),
    ]
    for source in SOURCES.values():
        found.extend(source.pending(up_to, customer_ids, lock))
    by_customer: dict[int, list[Billable]] = defaultdict(list)
    for item in sorted(found, key=lambda item: (item.on, item.kind, item.id, item.key)):
        by_customer[item.customer_id].append(item)
    return by_customer


def mark_billed(items: Sequence[Billable]) -> None:
    """The items are on an issued invoice: pending no more (a subscription period by its billed-item key)."""
    by_kind: dict[str, list[Billable]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    Charge.objects.filter(pk__in=[item.id for item in by_kind["charge"]]).update(status=Charge.Status.BILLED)
    Delivery.objects.filter(pk__in=[item.id for item in by_kind["delivery"]]).update(
        status=Delivery.Status.BILLED
    )
    for kind, source in SOURCES.items():
        if by_kind[kind]:
            source.mark_billed(by_kind[kind])
