"""Sales orders and deliveries: an order's lines are priced on its date; each delivery against a line
makes what it delivered billable at that price, never more than was ordered. Each write is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import Delivery, OrderLine, SalesOrder
from billops.billing.services.common import customer_taking_work, priced_line
from billops.catalog.display import plain_decimal
from billops.core.errors import Duplicate, InvalidAmount, InvalidInput, NotFound
from billops.invoicing.errors import WrongStatus
from billops.invoicing.services.lines import (
    MAX_LINES,
    LineData,
    clean_document_date,
    clean_quantity,
    clean_text,
)


def order_state(order: SalesOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "customer": order.customer.account_number,
        "order_date": order.order_date,
        "po_number": order.po_number,
        "status": order.status,
        "lines": [
            {"line_no": line.line_no, "product": line.product.code, "quantity": line.quantity,
             "unit_price": line.unit_price, "tax_code": line.tax_code.code}
            for line in order.lines.all()
        ],
    }  # fmt: skip


@transaction.atomic(durable=True)
def create_order(
    *,
    customer_id: int,
    number: str,
    lines: Sequence[LineData],
    actor: User,
    order_date: date | None = None,
    po_number: str = "",
) -> SalesOrder:
    """Record a customer's order with its lines, each by product, priced as of the order date."""
    require_permission(actor, "billing.capture")
    customer = customer_taking_work(customer_id)
    number = clean_text(number, "number", limit=30, required=True).upper()
    on = clean_document_date(order_date, "order_date") or clock.today()
    if not lines:
        raise InvalidInput("an order needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"an order holds at most {MAX_LINES} lines", field="lines")
    priced = []
    for index, line in enumerate(lines):
        if not line.product_code:
            raise InvalidInput("an order line names a product", field=f"lines.{index}.product_code")
        priced.append(priced_line(customer, line, on, prefix=f"lines.{index}."))
    order = SalesOrder(
        customer=customer, number=number, order_date=on, currency=customer.currency, created_by=actor,
        po_number=clean_text(po_number, "po_number", limit=60),
    )  # fmt: skip
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise Duplicate(f"there is an order {number} already", field="number") from None
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order, line_no=line_no, product=line.product, description=line.description,
            quantity=line.quantity, unit=line.unit, unit_price=line.unit_price,
            price_source=line.price_source, tax_code=line.tax_code,
        )
        for line_no, line in enumerate(priced, start=1)
    )  # fmt: skip
    record_event(actor=actor, action="order.created", target=order, after=order_state(order))
    return order


@transaction.atomic(durable=True)
def record_delivery(
    *,
    order_number: str,
    line_no: int,
    quantity: Any,
    actor: User,
    delivered_on: date | None = None,
    reference: str = "",
) -> Delivery:
    """What went out against an order line; it becomes billable at the line's price."""
    require_permission(actor, "billing.capture")
    line = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("order__customer", "product", "tax_code")
        .filter(order__number=order_number.strip().upper(), line_no=line_no)
        .first()
    )
    if line is None:
        raise NotFound(f"there is no line {line_no} on order {order_number!r}", field="line_no")
    order = line.order
    if order.status != SalesOrder.Status.OPEN:
        raise WrongStatus(f"{order} is {order.status}; it takes no more deliveries", field="status")
    amount = clean_quantity(quantity)
    if amount > line.undelivered:
        raise InvalidAmount(
            f"{order} line {line_no} has {plain_decimal(line.undelivered)} {line.unit or 'units'} "
            f"left to deliver, not {plain_decimal(amount)}",
            field="quantity",
        )
    on = clean_document_date(delivered_on, "delivered_on") or clock.today()
    if on < order.order_date:
        raise InvalidInput(
            f"a delivery cannot be dated before its order ({order.order_date.isoformat()})",
            field="delivered_on",
        )
    delivery = Delivery.objects.create(
        line=line, customer=order.customer, quantity=amount, delivered_on=on, created_by=actor,
        reference=clean_text(reference, "reference", limit=100),
    )  # fmt: skip
    OrderLine.objects.filter(pk=line.pk).update(delivered=F("delivered") + amount)
    if not order.lines.filter(delivered__lt=F("quantity")).exists():
        order.status = SalesOrder.Status.DELIVERED
        order.save(update_fields=["status"])
    record_event(
        actor=actor,
        action="order.delivered",
        target=order,
        after={"line_no": line_no, "quantity": amount, "delivered_on": on, "reference": delivery.reference,
               "order_status": order.status},
    )  # fmt: skip
    return delivery


@transaction.atomic(durable=True)
def close_order(*, order_number: str, reason: str, actor: User) -> SalesOrder:
    """Nothing more will be delivered: what was delivered is still billed, the rest never is."""
    require_permission(actor, "billing.capture")
    reason = clean_text(reason, "reason", limit=300, required=True)
    order = SalesOrder.objects.select_for_update().filter(number=order_number.strip().upper()).first()
    if order is None:
        raise NotFound(f"there is no order {order_number!r}", field="order_number")
    if order.status != SalesOrder.Status.OPEN:
        raise WrongStatus(f"{order} is {order.status} already", field="status")
    order.status = SalesOrder.Status.CLOSED
    order.save(update_fields=["status"])
    record_event(
        actor=actor, action="order.closed", target=order, before={"status": "open"},
        after={"status": order.status, "reason": reason},
    )  # fmt: skip
    return order
