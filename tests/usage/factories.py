"""Usage data for the tests, made through the services as a clerk would: a usage product, metrics,
charges and batches of events."""

from __future__ import annotations

from datetime import date
from typing import Any

from billops.access.models import User
from billops.catalog.models import Product, TaxCode
from billops.customers.models import Customer
from billops.ledger.accounts import REVENUE, control_account
from billops.usage.imports import EventData
from billops.usage.models import BillableMetric, UsageCharge
from billops.usage.services.charges import create_metric, create_usage_charge
from billops.usage.services.ingestion import IngestResult, ingest_events

MARCH = date(2026, 3, 1)


def make_usage_product(code: str = "API-USAGE") -> Product:
    return Product.objects.create(
        code=code,
        name="API usage",
        unit="call",
        revenue_account=control_account(REVENUE),
        tax_code=TaxCode.objects.get(code="VAT-STD"),
        description="API usage",
    )


def make_metric(
    actor: User, code: str = "API-CALLS", aggregation: str = "count", **fields: Any
) -> BillableMetric:
    values = {"name": "API calls", "unit": "calls", "field": ""} | fields
    return create_metric(code=code, aggregation=aggregation, actor=actor, **values)


def make_charge(
    actor: User, customer: Customer, metric: BillableMetric, model: str = "per_unit", **terms: Any
) -> UsageCharge:
    values: dict[str, Any] = {"product_code": "API-USAGE", "start_date": MARCH} | terms
    return create_usage_charge(
        customer_id=customer.pk, metric_code=metric.code, model=model, actor=actor, **values
    )


def event(
    customer: Customer, metric: BillableMetric, event_id: str, on: str, value: Any = None, **properties: Any
) -> EventData:
    """An event at `on` ("2026-03-14" at noon UTC, or a full ISO timestamp)."""
    timestamp = on if "T" in on else f"{on}T12:00:00Z"
    return EventData(
        event_id=event_id,
        customer=customer.account_number,
        metric=metric.code,
        timestamp=timestamp,
        value=value,
        properties=properties or None,
    )


def send(actor: User, *events: EventData) -> IngestResult:
    return ingest_events(events=list(events), actor=actor)
