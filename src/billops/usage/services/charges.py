"""Billable metrics and usage charges: what is measured, and how each customer pays for it. Each creation
and each end of a charge is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.selectors import get_product
from billops.catalog.validation import Problems, clean_code, clean_price, clean_quantity, clean_text
from billops.core.calendars import month_end
from billops.core.errors import Conflict, Duplicate, InvalidInput, NotFound
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.invoicing.services.lines import clean_document_date, clean_percent
from billops.usage.models import BillableMetric, UsageCharge
from billops.usage.selectors import get_usage_charge

MAX_TIERS = 20
_FIELD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def metric_state(metric: BillableMetric) -> dict[str, Any]:
    return {
        "code": metric.code, "name": metric.name, "unit": metric.unit,
        "aggregation": metric.aggregation, "field": metric.field,
    }  # fmt: skip


@transaction.atomic(durable=True)
def create_metric(
    *, code: str, name: str, unit: str, aggregation: str, actor: User, field: str = ""
) -> BillableMetric:
    """Define something to measure. `field` is the event property aggregated: none for a count, the one
    whose distinct values are counted for a unique count."""
    require_permission(actor, "billing.capture")
    problems = Problems()
    code = problems.check(clean_code, code, "code", limit=30)
    name = problems.check(clean_text, name, "name", limit=100, required=True)
    unit = problems.check(clean_text, unit, "unit", limit=20, required=True)
    prop = problems.check(clean_text, field, "field", limit=60)
    if aggregation not in BillableMetric.Aggregation.values:
        choices = ", ".join(BillableMetric.Aggregation.values)
        problems.add(
            InvalidInput(f"aggregation {aggregation!r} is not one of {choices}", field="aggregation")
        )
    elif prop is not None:
        if aggregation == BillableMetric.Aggregation.COUNT and prop:
            problems.add(InvalidInput("a count aggregates no property: leave field empty", field="field"))
        elif aggregation != BillableMetric.Aggregation.COUNT and not prop:
            problems.add(
                InvalidInput(f"a {aggregation} metric needs the property it aggregates", field="field")
            )
        elif not set(prop) <= _FIELD_CHARACTERS:
            problems.add(
                InvalidInput(f"field {prop!r} may hold letters, digits, '_', '-', '.'", field="field")
            )
    problems.raise_any()
    if BillableMetric.objects.filter(code=code).exists():
        raise Duplicate(f"there is a metric {code} already", field="code")
    metric = BillableMetric.objects.create(
        code=code, name=name, unit=unit, aggregation=aggregation, field=prop, created_by=actor
    )
    record_event(actor=actor, action="usage_metric.created", target=metric, after=metric_state(metric))
    return metric


def charge_state(charge: UsageCharge) -> dict[str, Any]:
    return {
        "customer": charge.customer.account_number, "metric": charge.metric.code,
        "product": charge.product.code, "model": charge.model, "currency": charge.currency,
        "unit_price": charge.unit_price, "tiers": charge.tiers, "package_size": charge.package_size,
        "package_price": charge.package_price, "percentage": charge.percentage,
        "fixed_fee": charge.fixed_fee, "start_date": charge.start_date, "end_date": charge.end_date,
    }  # fmt: skip


def clean_tiers(value: Any) -> list[dict[str, str | None]]:
    """Tiers as stored: bounds rising, the last one open; prices and fees as decimal text."""
    if not isinstance(value, list) or not value:
        raise InvalidInput("tiers must be a list of at least one tier", field="tiers")
    if len(value) > MAX_TIERS:
        raise InvalidInput(f"at most {MAX_TIERS} tiers", field="tiers")
    problems, tiers, floor = Problems(), [], Decimal(0)
    for index, tier in enumerate(value):
        where = f"tiers.{index}."
        if not isinstance(tier, dict) or not set(tier) <= {"up_to", "unit_price", "flat_fee"}:
            problems.add(InvalidInput("a tier holds up_to, unit_price and flat_fee", field=f"tiers.{index}"))
            continue
        last = index == len(value) - 1
        up_to = tier.get("up_to")
        if up_to is None:
            if not last:
                problems.add(InvalidInput("only the last tier is open-ended", field=f"{where}up_to"))
        elif last:
            problems.add(InvalidInput("the last tier is open-ended: up_to null", field=f"{where}up_to"))
        else:
            up_to = problems.check(clean_quantity, up_to, f"{where}up_to", positive=True)
            if up_to is not None and up_to <= floor:
                problems.add(InvalidInput(f"up_to must be above {floor}", field=f"{where}up_to"))
            floor = max(floor, up_to or floor)
        price = problems.check(clean_price, tier.get("unit_price", "0"), f"{where}unit_price")
        fee = problems.check(clean_price, tier.get("flat_fee", "0"), f"{where}flat_fee")
        tiers.append(
            {"up_to": None if up_to is None else str(up_to), "unit_price": str(price), "flat_fee": str(fee)}
        )
    problems.raise_any()
    return tiers


def _clean_terms(model: str, params: dict[str, Any]) -> dict[str, Any]:
    """The model's own parameters, cleaned; another model's given is an error."""
    needs = {
        UsageCharge.Model.PER_UNIT: {"unit_price"},
        UsageCharge.Model.GRADUATED: {"tiers"},
        UsageCharge.Model.VOLUME: {"tiers"},
        UsageCharge.Model.PACKAGE: {"package_size", "package_price"},
        UsageCharge.Model.PERCENTAGE: {"percentage", "fixed_fee"},
    }[UsageCharge.Model(model)]
    problems, terms = Problems(), {}
    for name, value in params.items():
        if value in (None, "", []) and name in needs - {"fixed_fee"}:
            problems.add(InvalidInput(f"a {model} charge needs {name}", field=name))
        elif value not in (None, "", []) and name not in needs:
            problems.add(InvalidInput(f"a {model} charge has no {name}", field=name))
    problems.raise_any()
    cleaners = {
        "unit_price": lambda value: clean_price(value, "unit_price"),
        "tiers": clean_tiers,
        "package_size": lambda value: clean_quantity(value, "package_size", positive=True),
        "package_price": lambda value: clean_price(value, "package_price"),
        "percentage": lambda value: clean_percent(value, "percentage"),
        "fixed_fee": lambda value: clean_price(value or "0", "fixed_fee"),
    }
    for name in sorted(needs):
        terms[name] = problems.check(cleaners[name], params.get(name))
    problems.raise_any()
    return terms


def _customer_for_usage(customer_id: int) -> Customer:
    customer = get_customer(customer_id, for_update=True)  # serialises charges of one customer
    if customer.status == Customer.Status.CLOSED:
        raise InvalidInput(
            f"{customer.account_number} is closed and takes no new charges", field="customer_id"
        )
    return customer


@transaction.atomic(durable=True)
def create_usage_charge(
    *,
    customer_id: int,
    metric_code: str,
    product_code: str,
    model: str,
    actor: User,
    unit_price: Any = None,
    tiers: Any = None,
    package_size: Any = None,
    package_price: Any = None,
    percentage: Any = None,
    fixed_fee: Any = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> UsageCharge:
    """Price a metric for a customer from `start_date` (today left out). A customer has one charge per
    metric on any day, so that no event is billed twice."""
    require_permission(actor, "billing.capture")
    customer = _customer_for_usage(customer_id)
    metric = BillableMetric.objects.filter(
        code=clean_text(metric_code, "metric_code", limit=30).upper()
    ).first()
    if metric is None:
        raise NotFound(f"there is no metric {metric_code!r}", field="metric_code")
    product = get_product(product_code)
    if not product.is_active:
        raise InvalidInput(f"product {product.code} is no longer sold", field="product_code")
    if model not in UsageCharge.Model.values:
        raise InvalidInput(
            f"model {model!r} is not one of {', '.join(UsageCharge.Model.values)}", field="model"
        )
    if model == UsageCharge.Model.PERCENTAGE and metric.aggregation != BillableMetric.Aggregation.SUM:
        raise InvalidInput(
            f"a percentage is of a summed amount; {metric.code} is a {metric.aggregation}", field="model"
        )
    params = {
        "unit_price": unit_price, "tiers": tiers, "package_size": package_size,
        "package_price": package_price, "percentage": percentage, "fixed_fee": fixed_fee,
    }  # fmt: skip
    terms = _clean_terms(model, params)
    start = clean_document_date(start_date, "start_date") or clock.today()
    end = clean_document_date(end_date, "end_date")
    if end is not None and end < start:
        raise InvalidInput("the charge ends before it starts", field="end_date")
    overlapping = UsageCharge.objects.filter(customer=customer, metric=metric).exclude(end_date__lt=start)
    if end is not None:
        overlapping = overlapping.filter(start_date__lte=end)
    other = overlapping.first()
    if other is not None:
        raise Conflict(
            f"{customer.account_number} pays for {metric.code} by charge {other.pk} from {other.start_date}"
            + (f" to {other.end_date}" if other.end_date else "")
            + "; end it first, so no usage is billed twice",
            field="start_date",
        )
    charge = UsageCharge.objects.create(
        customer=customer, metric=metric, product=product, model=model, currency=customer.currency,
        start_date=start, end_date=end, created_by=actor, **terms,
    )  # fmt: skip
    record_event(actor=actor, action="usage_charge.created", target=charge, after=charge_state(charge))
    return charge


@transaction.atomic(durable=True)
def end_usage_charge(*, charge_id: int, end_date: date, actor: User) -> UsageCharge:
    """End an open charge on a day (inclusive): its last month is billed in arrears by the run of that
    month. It cannot end within or before a month already billed."""
    require_permission(actor, "billing.capture")
    found = get_usage_charge(charge_id)
    get_customer(found.customer_id, for_update=True)  # the same lock as the runs and new charges take
    charge = get_usage_charge(charge_id)
    end = clean_document_date(end_date, "end_date")
    if end is None:
        raise InvalidInput("end_date is required", field="end_date")
    if charge.end_date is not None:
        raise Conflict(f"charge {charge.pk} ended on {charge.end_date} already", field="end_date")
    if end < charge.start_date:
        raise InvalidInput(
            f"the charge starts on {charge.start_date}; it cannot end before", field="end_date"
        )
    billed = charge.billings.order_by("-month").values_list("month", flat=True).first()
    if billed is not None and end < month_end(billed):
        raise InvalidInput(
            f"{billed:%B %Y} is billed already; end the charge on {month_end(billed)} or later",
            field="end_date",
        )
    charge.end_date = end
    charge.save(update_fields=["end_date"])
    record_event(
        actor=actor,
        action="usage_charge.ended",
        target=charge,
        before={"end_date": None},
        after={"end_date": end},
    )
    return charge
