"""Staff pages for bill runs: the list, one run (its partitions refresh while it runs) and the preview of a
month compared with the month before. Read-only: a run is started with `billops billrun`.
Thin, like the API: parse the form, call one service or selector, show the result or its error."""

from __future__ import annotations

import shlex
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can
from billops.billing import selectors
from billops.billing.models import BillRun, BillRunPartition
from billops.billing.services.planning import PlannedInvoice
from billops.billing.services.runs import RunPreview, preview_run
from billops.core.calendars import add_months, month_start
from billops.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from billops.core.money import Money, round_money
from billops.customers.models import Customer
from billops.web.amounts import Shown

PAGE_SIZE = 50
INVOICES_SHOWN = 200  # a run's page lists this many of its invoices; the invoice list has them all
DEFAULT_THRESHOLD = "20"  # percent: a planned total further than this from last month's is marked


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def _run(run_id: int) -> BillRun:
    try:
        return selectors.get_bill_run(run_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _totals(totals: dict[str, Any]) -> list[Shown]:
    return [Shown.of(amount, currency) for currency, amount in sorted(totals.items())]


# --- runs ------------------------------------------------------------------------------------------


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.list_bill_runs(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [(run, _totals(run.totals)) for run in page],
        "may_preview": can(request.user, "billing.run"),
        "params": {},  # the pager's links keep no filter
    }
    return render(request, "billing/runs.html", context)


def _partitions(run: BillRun) -> dict[str, Any]:
    partitions = list(selectors.list_run_partitions(run))
    done = sum(partition.status == BillRunPartition.Status.DONE for partition in partitions)
    return {"run": run, "partitions": partitions, "done": done, "count": len(partitions)}


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(run_id)
    invoices = selectors.list_run_invoices(run)
    shown = [(invoice, Shown.of(invoice.total, invoice.currency)) for invoice in invoices[:INVOICES_SHOWN]]
    count = invoices.count()  # live: `invoices_issued` is only set when the run is done
    drafts = [(draft, Shown.of(draft.total, draft.currency)) for draft in selectors.list_run_drafts(run)]
    context = {
        **_partitions(run),
        "totals": _totals(run.totals),
        "draft_totals": _totals(run.draft_totals),
        "drafts": drafts,
        "exceptions": selectors.list_run_exceptions(run),
        "invoices": shown,
        "invoice_count": count,
        "more_invoices": max(count - len(shown), 0),
    }
    return render(request, "billing/run.html", context)


@login_required
@require_GET
def run_partitions(request: HttpRequest, run_id: int) -> HttpResponse:
    """The partition block of a run's page, which asks for itself every 2 seconds while the run runs."""
    run = _run(run_id)
    response = render(request, "billing/_partitions.html", _partitions(run))
    if request.headers.get("HX-Request") and run.status == BillRun.Status.DONE:
        response["HX-Refresh"] = "true"  # it just finished: reload for the figures and the invoices
    return response


# --- preview ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRow:
    """A planned invoice next to what the previous month's runs billed the same customer. A customer
    invoiced per matter or contract is compared by the sum of its invoices, marked on each."""

    planned: PlannedInvoice
    net: Shown
    tax: Shown
    total: Shown
    last_month: Shown | None
    mark: str  # "new", "changed" or ""
    change_percent: Decimal | None  # of last month's total; None when there is nothing to divide by


def _compared(
    planned: PlannedInvoice, this_month: Money, last: Money | None, threshold: Decimal
) -> PlannedRow:
    """`this_month`: the customer's planned invoices together, which is what is compared with `last`."""
    invoice = planned.invoice
    mark, percent = "", None
    if last is None:
        mark = "new"
    elif last.currency == this_month.currency and last.amount:
        percent = (this_month.amount - last.amount) * 100 / last.amount
        mark = "changed" if abs(percent) > threshold else ""
    elif last != this_month:  # another currency, or nothing billed last month: no percentage to give
        mark = "changed"
    return PlannedRow(
        planned=planned,
        net=Shown.of(invoice.subtotal, invoice.currency),
        tax=Shown.of(invoice.tax_total, invoice.currency),
        total=Shown.of(invoice.total, invoice.currency),
        last_month=Shown.of_money(last) if last is not None else None,
        mark=mark,
        change_percent=percent,
    )


def _comparison(preview: RunPreview, threshold: Decimal) -> dict[str, Any]:
    last_month = selectors.billed_by_previous_month(period_start=preview.period_start)
    this_month: dict[Customer, Decimal] = defaultdict(Decimal)
    for planned in preview.invoices:
        this_month[planned.customer] += planned.invoice.total
    in_preview = set(this_month) | {exception.customer for exception in preview.exceptions}
    gone: list[tuple[Customer, Shown]] = [
        (customer, Shown.of_money(total))
        for customer, total in last_month.items()
        if customer not in in_preview
    ]
    rows = [
        _compared(
            planned,
            round_money(this_month[planned.customer], planned.invoice.currency),
            last_month.get(planned.customer),
            threshold,
        )
        for planned in preview.invoices
    ]
    return {"rows": rows, "gone": gone, "had_last_month": bool(last_month)}


def _threshold(value: str) -> Decimal:
    try:
        threshold = Decimal(value.strip() or DEFAULT_THRESHOLD)
    except InvalidOperation:
        raise InvalidInput(f"the threshold {value!r} is not a number of percent", field="threshold") from None
    if not threshold.is_finite() or threshold < 0:
        raise InvalidInput(f"the threshold {value!r} is not a percentage of 0 or more", field="threshold")
    return threshold


def _invoice_date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None  # the run's default: the business date
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date like 2026-04-01", field="invoice_date") from None


def _preview_form(request: HttpRequest) -> dict[str, str]:
    last_month = add_months(month_start(clock.today()), -1)  # the month a clerk usually bills
    return {
        "period": request.GET.get("period", "").strip(),
        "invoice_date": request.GET.get("invoice_date", "").strip(),
        "threshold": request.GET.get("threshold", "").strip() or DEFAULT_THRESHOLD,
        "suggested_period": f"{last_month:%Y-%m}",
    }


def _command(preview: RunPreview, user: User) -> str:
    """The command that issues what the preview shows (the same invoice date, whenever it is run)."""
    return (
        f"billops billrun --period {preview.period_start:%Y-%m} "
        f"--invoice-date {preview.invoice_date.isoformat()} --user {shlex.quote(user.username)}"
    )


@login_required
@require_GET
def run_preview(request: HttpRequest) -> HttpResponse:
    """What a run of the month would issue now, compared with the month before; writes nothing."""
    form = _preview_form(request)
    context: dict[str, Any] = {"form": form, "error": None, "preview": None, "refused": False}
    if not can(request.user, "billing.run"):  # the service refuses too; say so before the form is filled
        refusal = PermissionDenied(
            "You may not preview bill runs: clerks and supervisors preview and run them.",
            action="billing.run",
        )
        return render(
            request, "billing/preview.html", {**context, "error": refusal, "refused": True}, status=403
        )
    if not form["period"]:
        return render(request, "billing/preview.html", context)
    try:
        threshold = _threshold(form["threshold"])
        preview = preview_run(
            period=form["period"],
            actor=_user(request),
            invoice_date=_invoice_date(form["invoice_date"]),
        )
    except DomainError as exc:  # a bad period, date or threshold: say so above the form, show nothing
        status = 403 if isinstance(exc, PermissionDenied) else 200
        return render(request, "billing/preview.html", {**context, "error": exc}, status=status)
    context |= {
        "preview": preview,
        "totals": [Shown.of(total, currency) for currency, total in preview.totals().items()],
        "draft_totals": [Shown.of(total, currency) for currency, total in preview.draft_totals().items()],
        "command": _command(preview, _user(request)),
        **_comparison(preview, threshold),
    }
    return render(request, "billing/preview.html", context)
