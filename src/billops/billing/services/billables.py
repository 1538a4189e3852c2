"""What bill runs bill: each kind of billable work that is pending up to a day, as invoice lines.

Each item has a key (`charge:12`, `delivery:7`) that the run records once billed: the database refuses
the same key twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from billops.billing.models import Charge, Delivery
from billops.invoicing.services.lines import LineData

REFERENCE_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Billable:
    kind: str  # "charge", "delivery"
    id: int
    customer_id: int
    on: date  # the day the work was done: an invoice lists its lines in this order
    line: LineData

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


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


def pending(up_to: date, *, customer_id: int | None = None, lock: bool = False) -> dict[int, list[Billable]]:
    """Each customer's work pending on or before the day, oldest first; `lock` (with `customer_id`, inside
    the billing transaction) keeps other runs off it until the transaction ends."""
    charges = Charge.objects.filter(status=Charge.Status.PENDING, charge_date__lte=up_to)
    deliveries = Delivery.objects.filter(status=Delivery.Status.PENDING, delivered_on__lte=up_to)
    if customer_id is not None:
        charges, deliveries = (
            charges.filter(customer_id=customer_id),
            deliveries.filter(customer_id=customer_id),
        )
    if lock:
        charges, deliveries = (
            charges.select_for_update(of=("self",)),
            deliveries.select_for_update(of=("self",)),
        )
    found: Iterable[Billable] = [
        *(_charge(charge) for charge in charges.select_related("product", "tax_code")),
        *(
            _delivery(delivery)
            for delivery in deliveries.select_related("line__order", "line__product", "line__tax_code")
        ),
    ]
    by_customer: dict[int, list[Billable]] = defaultdict(list)
    for item in sorted(found, key=lambda item: (item.on, item.kind, item.id)):
        by_customer[item.customer_id].append(item)
    return by_customer


def mark_billed(items: Sequence[Billable]) -> None:
    """The items are on an issued invoice: pending no more."""
    ids: dict[str, list[int]] = defaultdict(list)
    for item in items:
        ids[item.kind].append(item.id)
    Charge.objects.filter(pk__in=ids["charge"]).update(status=Charge.Status.BILLED)
    Delivery.objects.filter(pk__in=ids["delivery"]).update(status=Delivery.Status.BILLED)
