"""Reads of billable work for the API and the pages."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, QuerySet

from billops.billing.models import Charge, Delivery, OrderLine, SalesOrder
from billops.core.errors import NotFound


def list_charges(
    *, customer_id: int | None = None, status: str = "", up_to: date | None = None
) -> QuerySet[Charge]:
    """Charges, newest first; `up_to` keeps those dated on or before the day (what a run of it would bill)."""
    charges = Charge.objects.select_related("customer", "product", "tax_code", "created_by", "cancelled_by")
    if customer_id is not None:
        charges = charges.filter(customer_id=customer_id)
    if status:
        charges = charges.filter(status=status)
    if up_to is not None:
        charges = charges.filter(charge_date__lte=up_to)
    return charges


def get_charge(charge_id: int) -> Charge:
    charge = list_charges().filter(pk=charge_id).first()
    if charge is None:
        raise NotFound(f"there is no charge {charge_id}", field="charge_id")
    return charge


def list_orders(*, customer_id: int | None = None, status: str = "") -> QuerySet[SalesOrder]:
    """Orders, newest first, each with its lines."""
    orders = SalesOrder.objects.select_related("customer", "created_by").prefetch_related(
        Prefetch("lines", OrderLine.objects.select_related("product", "tax_code").order_by("line_no"))
    )
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if status:
        orders = orders.filter(status=status)
    return orders


def get_order(number: str) -> SalesOrder:
    order = list_orders().filter(number=number.strip().upper()).first()
    if order is None:
        raise NotFound(f"there is no order {number!r}", field="order_number")
    return order


def list_deliveries(
    *, customer_id: int | None = None, status: str = "", up_to: date | None = None
) -> QuerySet[Delivery]:
    """Deliveries, newest first; `up_to` keeps those delivered on or before the day."""
    deliveries = Delivery.objects.select_related("line__order", "line__product", "customer", "created_by")
    if customer_id is not None:
        deliveries = deliveries.filter(customer_id=customer_id)
    if status:
        deliveries = deliveries.filter(status=status)
    if up_to is not None:
        deliveries = deliveries.filter(delivered_on__lte=up_to)
    return deliveries

