"""API: billable work under /api/v1/billing/: one-off charges, sales orders and their deliveries; plans,
subscriptions and contracts come from `api_subscriptions`.

Quantities and prices travel as decimal strings ("2", "49.90"); errors come back as {code, message, field}.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints

from billops.access.auth import api_actor
from billops.billing import selectors
from billops.billing.api_subscriptions import CancelIn
from billops.billing.api_subscriptions import router as subscriptions_router
from billops.billing.models import Charge, Delivery, OrderLine, SalesOrder
from billops.billing.services import charges, orders
from billops.catalog.display import plain_decimal, price_text
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    DateIn,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)
from billops.invoicing.services.lines import LineData

router = Router()


class ChargeIn(StrictIn):
    """A charge as entered; a product fills in the description, unit, price and tax code left out."""

    customer_id: RowId
    quantity: AmountIn  # more than zero, up to 4 places
    product_code: str = ""
    description: str = ""
    unit: str = ""
    unit_price: AmountIn | None = None  # up to 6 places; left out: the customer's price on the charge date
    tax_code: str = ""  # left out: the product's
    charge_date: DateIn | None = None  # left out: today; billed by the first run whose period covers it
    service_start: DateIn | None = None
    service_end: DateIn | None = None
    reference: str = ""


class ChargeFilters(Schema):
    customer_id: RowId | None = None
    status: Literal["", "pending", "billed", "cancelled"] = ""
    up_to: DateIn | None = None  # dated on or before this day


class ChargeOut(Schema):
    id: int
    customer_id: int
    customer_account_number: str
    product_code: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    price_source: str
    currency: str
    tax_code: str
    charge_date: date
    service_start: date | None
    service_end: date | None
    reference: str
    status: str
    created_by: str
    created_at: datetime
    cancelled_by: str | None
    cancelled_at: datetime | None
    cancel_reason: str

    @staticmethod
    def resolve_customer_account_number(obj: Charge) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_product_code(obj: Charge) -> str:
        return obj.product.code if obj.product else ""

    @staticmethod
    def resolve_quantity(obj: Charge) -> str:
        return plain_decimal(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: Charge) -> str:
        return price_text(obj.unit_price, obj.currency)

    @staticmethod
    def resolve_tax_code(obj: Charge) -> str:
        return obj.tax_code.code

    @staticmethod
    def resolve_created_by(obj: Charge) -> str:
        return obj.created_by.get_username()

    @staticmethod
    def resolve_cancelled_by(obj: Charge) -> str | None:
        return obj.cancelled_by.get_username() if obj.cancelled_by else None


@router.post("/charges", response={201: ChargeOut, **errors(*WRITE_ERRORS, 404)})
def create_charge(request: HttpRequest, payload: ChargeIn) -> object:
    """Priced and checked as an invoice line of its date; the reply says where the price came from."""
    charge = charges.create_charge(actor=api_actor(request), **payload.model_dump())
    return Status(201, charge)


@router.get("/charges", response={200: list[ChargeOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_charges(request: HttpRequest, filters: Query[ChargeFilters]) -> object:
    return selectors.list_charges(**filters.model_dump())


@router.get("/charges/{charge_id}", response={200: ChargeOut, **errors(404, 422)})
def get_charge(request: HttpRequest, charge_id: RowId) -> object:
    return selectors.get_charge(charge_id)


@router.post("/charges/{charge_id}/cancel", response={200: ChargeOut, **errors(*WRITE_ERRORS, 404)})
def cancel_charge(request: HttpRequest, charge_id: RowId, payload: CancelIn) -> object:
    """A pending charge only; a billed one is corrected with a credit note on its invoice."""
    charges.cancel_charge(charge_id=charge_id, reason=payload.reason, actor=api_actor(request))
    return selectors.get_charge(charge_id)


# --- orders and deliveries ------------------------------------------------------------------------

OrderNumber = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9./_-]+$")]


class OrderLineIn(StrictIn):
    """A line by product; its description, unit, price (the customer's on the order date) and tax code
    come from the catalog unless given."""

    product_code: str
    quantity: AmountIn  # more than zero, up to 4 places
    description: str = ""
    unit: str = ""
    unit_price: AmountIn | None = None
    tax_code: str = ""


class OrderIn(StrictIn):
    customer_id: RowId
    number: str  # the order number, unique: "SO-2026-0042"
    order_date: DateIn | None = None  # left out: today
    po_number: str = ""
    lines: list[OrderLineIn]


class DeliveryIn(StrictIn):
    quantity: AmountIn  # more than zero, at most what is left to deliver on the line
    delivered_on: DateIn | None = None  # left out: today; not before the order date
    reference: str = ""  # the delivery note


class OrderFilters(Schema):
    customer_id: RowId | None = None
    status: Literal["", "open", "delivered", "closed"] = ""


class DeliveryFilters(Schema):
    customer_id: RowId | None = None
    status: Literal["", "pending", "billed"] = ""
    up_to: DateIn | None = None


class OrderLineOut(Schema):
    line_no: int
    product_code: str
    description: str
    quantity: str
    delivered: str
    unit: str
    unit_price: str
    price_source: str
    tax_code: str

    @staticmethod
    def resolve_product_code(obj: OrderLine) -> str:
        return obj.product.code

    @staticmethod
    def resolve_quantity(obj: OrderLine) -> str:
        return plain_decimal(obj.quantity)

    @staticmethod
    def resolve_delivered(obj: OrderLine) -> str:
        return plain_decimal(obj.delivered)

    @staticmethod
    def resolve_unit_price(obj: OrderLine) -> str:
        return price_text(obj.unit_price, obj.order.currency)

    @staticmethod
    def resolve_tax_code(obj: OrderLine) -> str:
        return obj.tax_code.code


class OrderOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_account_number: str
    order_date: date
    po_number: str
    currency: str
    status: str
    created_by: str
    created_at: datetime
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_customer_account_number(obj: SalesOrder) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_created_by(obj: SalesOrder) -> str:
        return obj.created_by.get_username()

    @staticmethod
    def resolve_lines(obj: SalesOrder) -> list[OrderLine]:
        return list(obj.lines.all())


class DeliveryOut(Schema):
    id: int
    order_number: str
    line_no: int
    customer_id: int
    product_code: str
    quantity: str
    delivered_on: date
    reference: str
    status: str
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_order_number(obj: Delivery) -> str:
        return obj.line.order.number

    @staticmethod
    def resolve_line_no(obj: Delivery) -> int:
        return obj.line.line_no

    @staticmethod
    def resolve_product_code(obj: Delivery) -> str:
        return obj.line.product.code

    @staticmethod
    def resolve_quantity(obj: Delivery) -> str:
        return plain_decimal(obj.quantity)

    @staticmethod
    def resolve_created_by(obj: Delivery) -> str:
        return obj.created_by.get_username()


@router.post("/orders", response={201: OrderOut, **errors(*WRITE_ERRORS, 404)})
def create_order(request: HttpRequest, payload: OrderIn) -> object:
    """Each line priced as of the order date; the reply says where each price came from."""
    lines = [LineData(**line.model_dump()) for line in payload.lines]
    order = orders.create_order(
        customer_id=payload.customer_id, number=payload.number, lines=lines, actor=api_actor(request),
        order_date=payload.order_date, po_number=payload.po_number,
    )  # fmt: skip
    return Status(201, selectors.get_order(order.number))


@router.get("/orders", response={200: list[OrderOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> object:
    return selectors.list_orders(**filters.model_dump())


@router.get("/orders/{number}", response={200: OrderOut, **errors(404, 422)})
def get_order(request: HttpRequest, number: OrderNumber) -> object:
    return selectors.get_order(number)


@router.post(
    "/orders/{number}/lines/{line_no}/deliveries", response={201: DeliveryOut, **errors(*WRITE_ERRORS, 404)}
)
def record_delivery(request: HttpRequest, number: OrderNumber, line_no: RowId, payload: DeliveryIn) -> object:
    """Billable at the line's price from its date on; never more than is left to deliver."""
    delivery = orders.record_delivery(
        order_number=number, line_no=line_no, actor=api_actor(request), **payload.model_dump()
    )
    return Status(201, delivery)


@router.post("/orders/{number}/close", response={200: OrderOut, **errors(*WRITE_ERRORS, 404)})
def close_order(request: HttpRequest, number: OrderNumber, payload: CancelIn) -> object:
    """Nothing more will be delivered; what was delivered is still billed."""
    orders.close_order(order_number=number, reason=payload.reason, actor=api_actor(request))
    return selectors.get_order(number)


@router.get("/deliveries", response={200: list[DeliveryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilters]) -> object:
    return selectors.list_deliveries(**filters.model_dump())


router.add_router("", subscriptions_router)  # plans, subscriptions and contracts
