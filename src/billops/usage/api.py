"""API: metered usage under /api/v1/usage/: events in batches or as a CSV file, metrics, usage charges,
and a customer's usage of the current month.

Numbers travel as decimal strings ("12.5") or whole JSON numbers; errors come back as {code, message,
field}; a refused batch lists every bad event in `errors`, by index and field (`events.3.customer`).
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from billops.access.auth import api_actor
from billops.catalog.display import plain_decimal, price_text
from billops.catalog.schemas import ImportRejectedOut
from billops.core.errors import InvalidInput
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    DateIn,
    ErrorOut,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)
from billops.usage import selectors
from billops.usage.imports import MAX_FILE_BYTES, EventData
from billops.usage.models import UsageCharge, UsageEvent
from billops.usage.services import charges, ingestion

router = Router()


class UsageEventIn(Schema):
    """One event. Every field is checked by billops itself, so that a refused batch lists all problems."""

    event_id: Any = None  # text, unique per customer: a resend is counted once
    customer: Any = None  # the account number
    metric: Any = None  # the metric code
    timestamp: Any = None  # ISO 8601; without an offset, in the business time zone
    value: Any = None  # decimal text or a whole number; for a unique count, the distinct value
    properties: Any = None  # an object; the metric's field is read from it when value is left out


class UsageBatchIn(StrictIn):
    events: list[UsageEventIn]  # at most 10 000


class UsageBatchOut(Schema):
    batch_id: int | None
    received: int
    accepted: int  # stored by this batch
    duplicates: int  # sent before (or twice in the batch) with the same content: counted once


class UsageRefusedOut(ErrorOut):
    errors: list[ErrorOut]


class UsageEventFilters(Schema):
    customer_id: RowId | None = None
    metric: str = ""
    since: DateIn | None = Field(None, alias="from")  # used on or after this day
    until: DateIn | None = Field(None, alias="to")  # used on or before this day


class UsageEventOut(Schema):
    id: int
    event_id: str
    customer_id: int
    customer: str
    metric: str
    timestamp: datetime
    used_on: date
    value: str
    unique_value: str
    properties: dict[str, Any]
    batch_id: int
    received_at: datetime

    @staticmethod
    def resolve_customer(obj: UsageEvent) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_metric(obj: UsageEvent) -> str:
        return obj.metric.code

    @staticmethod
    def resolve_value(obj: UsageEvent) -> str:
        return plain_decimal(obj.value)


@router.post(
    "/events", response={200: UsageBatchOut, 400: UsageRefusedOut | ErrorOut, **errors(403, 409, 422)}
)
def ingest_events(request: HttpRequest, payload: UsageBatchIn) -> object:
    """All or nothing: any bad event refuses the batch (400, each bad event listed)."""
    events = [EventData(**event.model_dump()) for event in payload.events]
    result = ingestion.ingest_events(events=events, actor=api_actor(request))
    return {"batch_id": result.batch_id, "received": result.received, "accepted": result.accepted,
            "duplicates": result.duplicates}  # fmt: skip


@router.post(
    "/events/import",
    response={200: UsageBatchOut, **errors(*WRITE_ERRORS), 422: ImportRejectedOut | ErrorOut},
)
def import_events(request: HttpRequest, file: UploadedFile = File(...)) -> object:  # noqa: B008
    """A usage CSV file (docs/formats/usage-csv.md), all or nothing: 422 lists every problem by row and
    column."""
    if file.size and file.size > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", field="file")
    result = ingestion.import_events(
        content=file.read(), filename=file.name or "upload", actor=api_actor(request)
    )
    if not result.ok:
        message = f"nothing was imported: {len(result.rejects)} problems, listed by row and column"
        return Status(422, {"code": "import_rejected", "message": message, "field": "file",
                            "rejects": result.rejects, "rejects_csv": result.rejects_csv()})  # fmt: skip
    return {"batch_id": result.batch_id, "received": result.received, "accepted": result.accepted,
            "duplicates": result.duplicates}  # fmt: skip


@router.get("/events", response={200: list[UsageEventOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_events(request: HttpRequest, filters: Query[UsageEventFilters]) -> object:
    return selectors.list_events(
        customer_id=filters.customer_id, metric_code=filters.metric, since=filters.since, until=filters.until
    )


# --- metrics --------------------------------------------------------------------------------------


class UsageMetricIn(StrictIn):
    code: str  # "API-CALLS", stored in capitals
    name: str  # on the invoice line
    unit: str  # "calls"
    aggregation: Literal["sum", "count", "unique_count", "max", "latest"]
    field: str = ""  # the event property aggregated; none for count


class UsageMetricOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    aggregation: str
    field: str
    created_at: datetime


@router.post("/metrics", response={201: UsageMetricOut, **errors(*WRITE_ERRORS)})
def create_metric(request: HttpRequest, payload: UsageMetricIn) -> object:
    return Status(201, charges.create_metric(actor=api_actor(request), **payload.model_dump()))


@router.get("/metrics", response={200: list[UsageMetricOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_metrics(request: HttpRequest) -> object:
    return selectors.list_metrics()


# --- charges --------------------------------------------------------------------------------------


class UsageTierIn(StrictIn):
    up_to: AmountIn | None = None  # inclusive; null for the last tier
    unit_price: AmountIn
    flat_fee: AmountIn = Decimal(0)


class UsageChargeIn(StrictIn):
    """The model's own parameters only: per_unit a unit_price; graduated and volume tiers; package a
    package_size and package_price; percentage a percentage and an optional fixed_fee per event."""

    customer_id: RowId
    metric_code: str
    product_code: str  # its tax code and revenue account, its code on the invoice line
    model: Literal["per_unit", "graduated", "volume", "package", "percentage"]
    unit_price: AmountIn | None = None
    tiers: list[UsageTierIn] | None = None
    package_size: AmountIn | None = None
    package_price: AmountIn | None = None
    percentage: AmountIn | None = None
    fixed_fee: AmountIn | None = None
    start_date: DateIn | None = None  # left out: today
    end_date: DateIn | None = None


class UsageChargeEndIn(StrictIn):
    end_date: DateIn  # inclusive


class UsageChargeFilters(Schema):
    customer_id: RowId | None = None
    metric: str = ""
    active_on: DateIn | None = None


class UsageChargeOut(Schema):
    id: int
    customer_id: int
    customer: str
    metric: str
    product_code: str
    model: str
    currency: str
    unit_price: str | None
    tiers: list[dict[str, str | None]]
    package_size: str | None
    package_price: str | None
    percentage: str | None
    fixed_fee: str | None
    start_date: date
    end_date: date | None

    @staticmethod
    def resolve_customer(obj: UsageCharge) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_metric(obj: UsageCharge) -> str:
        return obj.metric.code

    @staticmethod
    def resolve_product_code(obj: UsageCharge) -> str:
        return obj.product.code

    @staticmethod
    def resolve_unit_price(obj: UsageCharge) -> str | None:
        return None if obj.unit_price is None else price_text(obj.unit_price, obj.currency)

    @staticmethod
    def resolve_package_size(obj: UsageCharge) -> str | None:
        return None if obj.package_size is None else plain_decimal(obj.package_size)

    @staticmethod
    def resolve_package_price(obj: UsageCharge) -> str | None:
        return None if obj.package_price is None else price_text(obj.package_price, obj.currency)

    @staticmethod
    def resolve_percentage(obj: UsageCharge) -> str | None:
        return None if obj.percentage is None else plain_decimal(obj.percentage)

    @staticmethod
    def resolve_fixed_fee(obj: UsageCharge) -> str | None:
        return None if obj.fixed_fee is None else price_text(obj.fixed_fee, obj.currency)


@router.post("/charges", response={201: UsageChargeOut, **errors(*WRITE_ERRORS, 404)})
def create_charge(request: HttpRequest, payload: UsageChargeIn) -> object:
    charge = charges.create_usage_charge(actor=api_actor(request), **payload.model_dump())
    return Status(201, selectors.get_usage_charge(charge.pk))


@router.get("/charges", response={200: list[UsageChargeOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_charges(request: HttpRequest, filters: Query[UsageChargeFilters]) -> object:
    return selectors.list_usage_charges(
        customer_id=filters.customer_id, metric_code=filters.metric, active_on=filters.active_on
    )


@router.get("/charges/{charge_id}", response={200: UsageChargeOut, **errors(404, 422)})
def get_charge(request: HttpRequest, charge_id: RowId) -> object:
    return selectors.get_usage_charge(charge_id)


@router.post("/charges/{charge_id}/end", response={200: UsageChargeOut, **errors(*WRITE_ERRORS, 404)})
def end_charge(request: HttpRequest, charge_id: RowId, payload: UsageChargeEndIn) -> object:
    """Its last month is billed in arrears by the run of that month."""
    charges.end_usage_charge(charge_id=charge_id, end_date=payload.end_date, actor=api_actor(request))
    return selectors.get_usage_charge(charge_id)


class UsageCurrentOut(Schema):
    charge_id: int
    metric: str
    month: date
    quantity: str
    unit: str
    events: int
    amount: str  # rated, not billed yet
    currency: str


@router.get("/customers/{customer_id}/current", response={200: list[UsageCurrentOut], **errors(404, 422)})
def current_usage(request: HttpRequest, customer_id: RowId) -> object:
    """This month's usage and its rated amount per charge running this month, not billed yet."""
    return [
        {"charge_id": usage.charge.pk, "metric": usage.charge.metric.code, "month": usage.month,
         "quantity": plain_decimal(usage.quantity), "unit": usage.charge.metric.unit, "events": usage.events,
         "amount": price_text(usage.amount, usage.charge.currency), "currency": usage.charge.currency}
        for usage in selectors.current_usage(customer_id)
    ]  # fmt: skip
