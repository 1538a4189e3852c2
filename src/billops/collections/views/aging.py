"""The aging page: as of a day, by due or invoice date, in chosen buckets, per customer, collector, entity or
currency, with a chart, the items behind each figure, and CSV or XLSX exports of what is shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billops.access import clock
from billops.access.models import Role, User
from billops.collections import exports
from billops.collections.charts import bucket_charts
from billops.collections.labels import item_names, row_names
from billops.collections.selectors.aging import GROUPS, aged_items, aging, parse_buckets
from billops.core.errors import DomainError, InvalidInput
from billops.customers.models import Customer
from billops.invoicing.forms import parse_date
from billops.web.amounts import Shown

DRILL_DOWN_LIMIT = 500


def _integer(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a number", field=field) from None


def _shown(amounts: list[Decimal], currency: str) -> list[Shown]:
    return [Shown.of(amount, currency) for amount in amounts]


def _filters(request: HttpRequest) -> dict[str, str]:
    names = ("as_of", "basis", "buckets", "group", "currency", "collector")
    return {name: request.GET.get(name, "").strip() for name in names}


def _asked(filters: dict[str, str]) -> dict[str, Any]:
    """The aging's arguments from the filters; a wrong one raises at its field."""
    return {
        "as_of": parse_date(filters["as_of"], field="as_of") or clock.today(),
        "buckets": parse_buckets(filters["buckets"] or None, filters["basis"] or "due"),
        "currency": filters["currency"].upper() or None,
        "collector_id": _integer(filters["collector"], "collector"),
    }


@login_required
@require_GET
def aging_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    group = filters["group"] or "customer"
    context: dict[str, Any] = {
        "filters": filters,
        "groups": GROUPS,
        "collectors": User.objects.filter(role__in=[Role.COLLECTOR, Role.SUPERVISOR], is_active=True),
    }
    try:
        report = aging(group=group, **_asked(filters))
    except DomainError as exc:
        context["error"] = exc
        return render(request, "collections/aging.html", context, status=400)
    if request.GET.get("format") in ("csv", "xlsx"):
        return exports.download(report, request.GET["format"])
    names = row_names(report)
    rows = sorted(report.rows, key=lambda row: (row.currency, -row.total, names.get(row.key, "")))
    context |= {
        "report": report,
        "rows": [
            (row, names.get(row.key), _shown(row.buckets, row.currency), Shown.of(row.total, row.currency))
            for row in rows
        ],
        "totals": [
            (total, _shown(total.buckets, total.currency), Shown.of(total.total, total.currency))
            for total in report.totals()
        ],
        "charts": bucket_charts(report),
        "query": request.GET.urlencode(),
    }  # fmt: skip
    return render(request, "collections/aging.html", context)


@login_required
@require_GET
def aging_items(request: HttpRequest) -> HttpResponse:
    """The drill-down: the items open on the day, of a customer and currency, in a bucket or all."""
    filters = _filters(request)
    context: dict[str, Any] = {"filters": filters}
    try:
        asked = _asked(filters)
        customer_id = _integer(request.GET.get("customer", ""), "customer")
        bucket = _integer(request.GET.get("bucket", ""), "bucket")
        items = aged_items(
            as_of=asked["as_of"], buckets=asked["buckets"], customer_id=customer_id,
            currency=asked["currency"], bucket=bucket, limit=DRILL_DOWN_LIMIT,
        )  # fmt: skip
    except DomainError as exc:
        context["error"] = exc
        return render(request, "collections/aging_items.html", context, status=400)
    names = item_names(items)
    customers = Customer.objects.in_bulk({item.customer_id for item in items})
    context |= {
        "as_of": asked["as_of"],
        "labels": asked["buckets"].labels,
        "bucket_label": asked["buckets"].labels[bucket] if bucket is not None else "",
        "customer": customers.get(customer_id) if customer_id else None,
        "items": [
            (item, *names.get((item.kind, item.item_id), ("", "")), customers[item.customer_id],
             Shown.of(item.open_amount, item.currency), asked["buckets"].labels[item.bucket])
            for item in items
        ],
        "limited": len(items) == DRILL_DOWN_LIMIT,
        "limit": DRILL_DOWN_LIMIT,
    }  # fmt: skip
    return render(request, "collections/aging_items.html", context)
