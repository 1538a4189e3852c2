"""The invoice list with its live filters, and starting a new draft for a customer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from billops.access import clock
from billops.access.permissions import can
from billops.core.errors import DomainError
from billops.customers.selectors import get_customer_by_number, list_customers
from billops.invoicing.forms import NewInvoiceForm, parse_date
from billops.invoicing.models import DocumentType, InvoiceStatus
from billops.invoicing.selectors import OPEN_STATUSES, list_invoices
from billops.invoicing.services.drafts import create_draft
from billops.invoicing.views.common import actor, is_htmx

PAGE_SIZE = 50
FILTERS = ("search", "status", "type", "issued_from", "issued_to", "overdue")
CUSTOMER_OPTIONS = 15


def _filters(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip() for name in FILTERS}


@login_required
@require_GET
def invoice_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    error: DomainError | None = None
    today = clock.today()
    try:
        invoices = list_invoices(
            search=filters["search"],
            status=filters["status"],
            document_type=filters["type"],
            issued_from=parse_date(filters["issued_from"], field="issued_from"),
            issued_to=parse_date(filters["issued_to"], field="issued_to"),
            overdue_on=today if filters["overdue"] else None,
        )
    except DomainError as exc:  # a date that is not one: say so and list nothing
        error, invoices = exc, list_invoices().none()
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "kept": {k: v for k, v in filters.items() if v},  # the filters the pager's links keep
        "error": error,
        "statuses": InvoiceStatus.choices,
        "types": DocumentType.choices,
        "open_statuses": list(OPEN_STATUSES),
        "today": today,
        "may_create": can(request.user, "invoicing.edit_drafts"),
    }
    template = "invoicing/_results.html" if is_htmx(request) else "invoicing/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # the same URL answers a whole page or the results
    return response


@login_required
@require_GET
def customer_options(request: HttpRequest) -> HttpResponse:
    """The suggestions under the account number field of a new draft, as the clerk types."""
    search = request.GET.get("account_number", "").strip()
    customers = list_customers(search=search)[:CUSTOMER_OPTIONS] if search else []
    return render(request, "invoicing/_customer_options.html", {"customers": customers})


@login_required
@require_http_methods(["GET", "POST"])
def invoice_create(request: HttpRequest) -> HttpResponse:
    form = NewInvoiceForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        try:
            values = form.values()
            customer = get_customer_by_number(values.pop("account_number"))
            invoice = create_draft(customer_id=customer.pk, actor=actor(request), **values)
        except DomainError as exc:
            status = form.show_error(exc)
        else:
            messages.success(
                request, f"Draft {invoice.pk} started for {customer.account_number}; add its lines."
            )
            return redirect("invoicing:detail", invoice.pk)
    return render(request, "invoicing/new.html", {"form": form}, status=status)
