"""Staff pages: the delivery log (retry now, re-send) and statements of account (preview, send, send to all).
Thin, like the API: parse the form, call one service or selector, show the result or its error."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can
from billops.core.calendars import month_start
from billops.core.errors import DomainError, InvalidInput, NotFound
from billops.customers.models import Customer
from billops.customers.selectors import get_customer_by_number, list_customers
from billops.delivery import selectors, services
from billops.delivery.models import Delivery, DeliveryStatus
from billops.invoicing.statements import statement_filename, statement_pdf

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def _delivery(delivery_id: uuid.UUID) -> Delivery:
    try:
        return selectors.get_delivery(delivery_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _back(request: HttpRequest, delivery_id: uuid.UUID) -> HttpResponse:
    # only our own pages: a `next` URL from the form would be an open redirect
    if request.POST.get("back") == "detail":
        return redirect("delivery:detail", delivery_id=delivery_id)
    return redirect("delivery:log")


def _date(value: str, *, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date like 2026-01-31", field=field) from None


@login_required
def delivery_log(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "").strip()
    if status not in DeliveryStatus.values:
        status = ""
    page = Paginator(selectors.list_deliveries(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.count_by_status()
    context = {
        "page": page,
        "status": status,
        "statuses": DeliveryStatus.choices,
        "counts": [(value, label, counts[value]) for value, label in DeliveryStatus.choices],
        "may_send": can(request.user, "invoicing.send"),
        "params": {"status": status} if status else {},
    }
    return render(request, "delivery/log.html", context)


@login_required
def delivery_detail(request: HttpRequest, delivery_id: uuid.UUID) -> HttpResponse:
    delivery = _delivery(delivery_id)
    context = {
        "delivery": delivery,
        "attempts": selectors.list_attempts(delivery),
        "may_send": can(request.user, "invoicing.send"),
    }
    return render(request, "delivery/detail.html", context)


@login_required
def delivery_attachment(request: HttpRequest, delivery_id: uuid.UUID) -> HttpResponse:
    """The attachment exactly as it was (or will be) sent."""
    delivery = _delivery(delivery_id)
    if delivery.attachment is None:
        raise Http404("the document's PDF is still being rendered")
    response = HttpResponse(bytes(delivery.attachment), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{delivery.attachment_filename}"'
    return response


@login_required
@require_POST
def retry(request: HttpRequest, delivery_id: uuid.UUID) -> HttpResponse:
    try:
        delivery = services.retry_delivery(delivery_id=delivery_id, actor=_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Delivery to {delivery.recipients} is queued to be tried again now.")
    return _back(request, delivery_id)


@login_required
@require_POST
def resend(request: HttpRequest, delivery_id: uuid.UUID) -> HttpResponse:
    try:
        delivery = services.resend_delivery(delivery_id=delivery_id, actor=_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(request, delivery_id)
    messages.success(request, f"Queued again as a new delivery to {delivery.recipients}.")
    return redirect("delivery:detail", delivery_id=delivery.pk)


def _statement_form(source: Any) -> dict[str, str]:
    today = clock.today()
    return {
        "account": source.get("account", "").strip(),
        "period_start": source.get("period_start", "").strip() or month_start(today).isoformat(),
        "as_of": source.get("as_of", "").strip() or today.isoformat(),
        "recipients": source.get("recipients", "").strip(),
    }


def _statement_values(form: dict[str, str]) -> tuple[Customer, date, date]:
    if not form["account"]:
        raise InvalidInput("pick a customer by its account number", field="account")
    customer = get_customer_by_number(form["account"])
    return customer, _date(form["period_start"], field="period_start"), _date(form["as_of"], field="as_of")


@login_required
def statements(request: HttpRequest) -> HttpResponse:
    """Pick a customer and a period; preview the statement, send it, or send all open balances' statements."""
    form = _statement_form(request.POST if request.method == "POST" else request.GET)
    error: DomainError | None = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "send_all":
                return _send_all(request, form)
            customer, period_start, as_of = _statement_values(form)
            recipients = (
                [part.strip() for part in form["recipients"].split(",")] if form["recipients"] else None
            )
            delivery = services.queue_statement_delivery(
                customer_id=customer.pk,
                period_start=period_start,
                as_of=as_of,
                actor=_user(request),
                recipients=recipients,
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(
                request, f"The statement of {customer.account_number} is queued for {delivery.recipients}."
            )
            return redirect("delivery:detail", delivery_id=delivery.pk)
    context = {
        "form": form,
        "error": error,
        "customers": list_customers().values("account_number", "legal_name"),
        "may_send": can(request.user, "invoicing.send"),
    }
    return render(request, "delivery/statements.html", context, status=error.http_status if error else 200)


def _send_all(request: HttpRequest, form: dict[str, str]) -> HttpResponse:
    period_start = _date(form["period_start"], field="period_start")
    as_of = _date(form["as_of"], field="as_of")
    result = services.queue_statements_for_open_balances(
        period_start=period_start, as_of=as_of, actor=_user(request)
    )
    messages.success(
        request,
        f"{len(result.queued)} statements queued, {len(result.already_queued)} had been queued before, "
        f"{len(result.refused)} refused.",
    )
    for error in result.refused.values():
        messages.error(request, error.message)
    return redirect("delivery:log")


@login_required
def statement_preview(request: HttpRequest) -> HttpResponse:
    """The statement PDF as it would be sent now."""
    form = _statement_form(request.GET)
    try:
        customer, period_start, as_of = _statement_values(form)
        pdf = statement_pdf(customer_id=customer.pk, period_start=period_start, as_of=as_of)
    except DomainError as exc:
        context = {
            "form": form,
            "error": exc,
            "customers": list_customers().values("account_number", "legal_name"),
            "may_send": can(request.user, "invoicing.send"),
        }
        return render(request, "delivery/statements.html", context, status=exc.http_status)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{statement_filename(customer, as_of)}"'
    return response
