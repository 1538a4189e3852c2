"""Staff pages: chart of accounts, trial balance, journal, one entry, and the period close."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can
from billops.core.errors import DomainError, InvalidInput
from billops.ledger import selectors, services
from billops.ledger.models import AccountPurpose, AccountType


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # @login_required lets only signed-in users this far


def _date(value: str, *, field: str) -> date | None:
    """A date typed into a form (YYYY-MM-DD), or None when left empty."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date like 2025-01-31", field=field) from None


@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    error, form = None, {"code": "", "name": "", "type": "", "purpose": ""}
    if request.method == "POST":
        form = {name: request.POST.get(name, "").strip() for name in form}
        try:
            account = services.create_account(
                code=form["code"],
                name=form["name"],
                type=form["type"],
                purpose=form["purpose"] or None,
                actor=_actor(request),
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Account {account} added to the chart.")
            return redirect("ledger:accounts")
    try:
        as_of = _date(request.GET.get("as_of", ""), field="as_of") or clock.today()
    except DomainError as exc:
        error, as_of = exc, clock.today()
    balances = selectors.balances_by_account(as_of=as_of)
    rows = [(account, balances.get(account.pk, [])) for account in selectors.list_accounts()]
    context = {
        "rows": rows,
        "as_of": as_of,
        "error": error,
        "form": form,
        "can_manage": can(request.user, "ledger.manage_accounts"),
        "types": AccountType.choices,
        "purposes": AccountPurpose.choices,
    }
    return render(request, "ledger/accounts.html", context, status=error.http_status if error else 200)


@login_required
def trial_balance(request: HttpRequest) -> HttpResponse:
    error = None
    currency = request.GET.get("currency", "").strip().upper()
    try:
        as_of = _date(request.GET.get("as_of", ""), field="as_of") or clock.today()
    except DomainError as exc:
        error, as_of = exc, clock.today()
    report = selectors.trial_balance(as_of=as_of, currency=currency or None)
    context = {"report": report, "as_of": as_of, "currency": currency, "error": error}
    return render(request, "ledger/trial_balance.html", context)


@login_required
def journal(request: HttpRequest) -> HttpResponse:
    filters = {
        name: request.GET.get(name, "").strip()
        for name in ("posted_from", "posted_to", "account", "customer_id", "source_type", "memo")
    }
    error = None
    try:
        customer = filters["customer_id"]
        if customer and not customer.isdigit():
            raise InvalidInput("customer id is a number", field="customer_id")
        entries = selectors.list_entries(
            posted_from=_date(filters["posted_from"], field="posted_from"),
            posted_to=_date(filters["posted_to"], field="posted_to"),
            account=filters["account"],
            customer_id=int(customer) if customer else None,
            source_type=filters["source_type"],
            memo=filters["memo"],
        )
    except DomainError as exc:
        error, entries = exc, selectors.list_entries()
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    rows = [(entry, selectors.entry_totals(entry)) for entry in page]
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "error": error,
        "accounts": selectors.list_accounts(),
    }
    return render(request, "ledger/journal.html", context)


def _entry_page(
    request: HttpRequest, pk: int, *, error: DomainError | None = None, reason: str = ""
) -> HttpResponse:
    entry = selectors.get_entry(pk)
    context = {
        "entry": entry,
        "totals": selectors.entry_totals(entry),
        "reversal": entry.reversal,
        "event": selectors.entry_audit_event(entry),
        "can_reverse": can(request.user, "ledger.reverse_entry")
        and entry.reversal is None
        and not entry.reversal_of_id
        and not entry.source_type,  # a document's entry is corrected through the document
        "today": clock.today(),
        "error": error,
        "reason": reason,
    }
    return render(request, "ledger/entry.html", context, status=error.http_status if error else 200)


@login_required
def entry(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        return _entry_page(request, pk)
    except DomainError as exc:  # NotFound
        return render(request, "ledger/missing.html", {"error": exc}, status=exc.http_status)


@login_required
@require_POST
def entry_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        on = _date(request.POST.get("posted_on", ""), field="posted_on") or clock.today()
        reversal = services.reverse_entry(entry_id=pk, on=on, reason=reason, actor=_actor(request))
    except DomainError as exc:
        try:
            return _entry_page(request, pk, error=exc, reason=reason)
        except DomainError as missing:
            return render(request, "ledger/missing.html", {"error": missing}, status=missing.http_status)
    messages.success(request, f"Entry {pk} reversed by entry {reversal.pk}.")
    return redirect("ledger:entry", pk=reversal.pk)


def _periods_page(request: HttpRequest, *, error: DomainError | None = None) -> HttpResponse:
    context: dict[str, Any] = {
        "periods": selectors.list_periods(),
        "current": selectors.current_open_period(),
        "can_close": can(request.user, "ledger.close_period"),
        "can_reopen": can(request.user, "ledger.reopen_period"),
        "error": error,
    }
    return render(request, "ledger/periods.html", context, status=error.http_status if error else 200)


@login_required
def periods(request: HttpRequest) -> HttpResponse:
    return _periods_page(request)


@login_required
@require_POST
def period_close(request: HttpRequest, start_on: str) -> HttpResponse:
    try:
        start = _date(start_on, field="start_on") or clock.today()
        period = services.close_period(start_on=start, actor=_actor(request))
    except DomainError as exc:
        return _periods_page(request, error=exc)
    messages.success(request, f"{period} is closed; it refuses postings until a supervisor reopens it.")
    return redirect("ledger:periods")


@login_required
@require_POST
def period_reopen(request: HttpRequest, start_on: str) -> HttpResponse:
    try:
        start = _date(start_on, field="start_on") or clock.today()
        period = services.reopen_period(
            start_on=start, reason=request.POST.get("reason", ""), actor=_actor(request)
        )
    except DomainError as exc:
        return _periods_page(request, error=exc)
    messages.success(request, f"{period} is open again.")
    return redirect("ledger:periods")
