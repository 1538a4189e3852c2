"""Staff pages for customers: list, detail with history, create, edit, credit actions, import, export.
Thin, like the API: parse the form, call one service or selector, show the result or its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from billops.access.models import User
from billops.access.permissions import can
from billops.core.errors import DomainError, NotFound
from billops.customers import exports, selectors, services
from billops.customers.forms import (
    AddressForm,
    ContactForm,
    CreditHoldForm,
    CreditLimitForm,
    CustomerForm,
    ImportForm,
    ReleaseForm,
    ServiceForm,
    initial_from_state,
)
from billops.customers.models import Customer
from billops.customers.validation import AddressData, ContactData, CustomerData, customer_state
from billops.ledger.selectors import receivables_by_customer

PAGE_SIZE = 50
FILTERS = ("search", "status", "currency", "hold", "cycle", "tag", "sort")


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def _customer(pk: int) -> Customer:
    try:
        return selectors.get_customer(pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None  # an empty POST is still a submitted form


def _filters(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip() for name in FILTERS}


def _selected(filters: dict[str, str]) -> Any:
    on_hold = {"1": True, "0": False}.get(filters["hold"])
    return selectors.list_customers(
        search=filters["search"], status=filters["status"], currency=filters["currency"], on_hold=on_hold,
        tag=filters["tag"], cycle=filters["cycle"], sort=filters["sort"] or "account_number",
    )  # fmt: skip


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page = Paginator(_selected(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {k: v for k, v in filters.items() if v}
    context = {
        "page": page,
        "filters": filters,
        "kept": kept,  # the filters the pager's links keep
        "query_without_sort": urlencode({k: v for k, v in kept.items() if k != "sort"}),
        "statuses": Customer.Status.choices,
        "cycles": Customer.Cycle.choices,
        "currencies": Customer.objects.order_by("currency").values_list("currency", flat=True).distinct(),
        "tags": selectors.list_tags(),
        "on_hold": selectors.customers_on_hold_count(),
        "may_create": can(request.user, "customers.create"),
        "may_import": can(request.user, "customers.import"),
    }
    return render(request, "customers/list.html", context)


def _detail(request: HttpRequest, customer: Customer, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    limit = {"credit_limit": customer.credit_limit_money.amount}
    context = {
        "customer": customer,
        "contacts": customer.contacts.all(),
        "addresses": customer.addresses.all(),
        "children": selectors.children_of(customer),
        "opening_balances": selectors.list_opening_balances(customer),
        "receivables": [
            (currency, amount)
            for (_, currency), amount in receivables_by_customer(customer_id=customer.pk).items()
        ],
        "events": selectors.history(customer)[:100],
        "contact_form": forms.get("contact_form") or ContactForm(),
        "address_form": forms.get("address_form") or AddressForm(initial={"country": customer.country}),
        "hold_form": forms.get("hold_form") or CreditHoldForm(),
        "release_form": forms.get("release_form") or ReleaseForm(),
        "limit_form": forms.get("limit_form") or CreditLimitForm(initial=limit),
        "may_change": can(user, "customers.change"),
        "may_hold": can(user, "customers.place_credit_hold"),
        "may_release": can(user, "customers.release_credit_hold"),
        "may_set_limit": can(user, "customers.set_credit_limit"),
    }  # fmt: skip
    return render(request, "customers/detail.html", context, status=status)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _customer(pk))


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(_posted(request), initial={"terms": "NET30", "currency": "EUR", "status": "active"})
    status = 200
    if request.method == "POST":
        raw = form.raw()
        try:
            customer = services.create_customer(data=CustomerData(**raw), actor=_user(request))
        except DomainError as exc:
            status = form.show_error(exc)
        else:
            messages.success(request, f"Customer {customer.account_number} created.")
            return redirect("customers:detail", customer.pk)
    return render(request, "customers/form.html", {"form": form, "title": "New customer"}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(pk)
    form = CustomerForm(_posted(request), initial=initial_from_state(customer_state(customer)), editing=True)
    status = 200
    if request.method == "POST":
        try:
            services.change_customer(customer_id=pk, changes=form.raw(), actor=_user(request))
        except DomainError as exc:
            status = form.show_error(exc)
        else:
            messages.success(request, f"Customer {customer.account_number} saved.")
            return redirect("customers:detail", pk)
    title = f"Edit {customer.account_number}"
    return render(
        request, "customers/form.html", {"form": form, "title": title, "customer": customer}, status=status
    )


Action = Callable[[int, dict[str, Any], User], object]  # (customer id, the form's values, actor)


def _detail_action(
    form_class: type[ServiceForm], form_name: str, action: Action, done: str
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A view for one form of a customer's page: run the action, or show the page again with the error
    at its field (`form_name` is the form's name in the page's context)."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        form = form_class(request.POST)
        try:
            action(pk, form.raw(), _user(request))
        except DomainError as exc:
            status = form.show_error(exc)
            return _detail(request, _customer(pk), status, **{form_name: form})
        messages.success(request, done)
        return redirect("customers:detail", pk)

    return view


place_credit_hold = _detail_action(
    CreditHoldForm,
    "hold_form",
    lambda pk, raw, actor: services.place_credit_hold(customer_id=pk, reason=raw["reason"], actor=actor),
    "Credit hold placed.",
)
release_credit_hold = _detail_action(
    ReleaseForm,
    "release_form",
    lambda pk, raw, actor: services.release_credit_hold(customer_id=pk, note=raw["note"], actor=actor),
    "Credit hold released.",
)
set_credit_limit = _detail_action(
    CreditLimitForm,
    "limit_form",
    lambda pk, raw, actor: services.set_credit_limit(
        customer_id=pk, credit_limit=raw["credit_limit"], actor=actor
    ),
    "Credit limit set.",
)
add_contact = _detail_action(
    ContactForm,
    "contact_form",
    lambda pk, raw, actor: services.add_contact(customer_id=pk, data=ContactData(**raw), actor=actor),
    "Contact added.",
)
add_address = _detail_action(
    AddressForm,
    "address_form",
    lambda pk, raw, actor: services.add_address(customer_id=pk, data=AddressData(**raw), actor=actor),
    "Address added.",
)


@login_required
@require_http_methods(["GET", "POST"])
def customer_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(_posted(request), request.FILES if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.import_customers(
                content=upload.read(), filename=upload.name, actor=_user(request)
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.http_status
        else:
            if result.ok:
                messages.success(request, f"Imported {result.created} customers from {upload.name}.")
                return redirect("customers:list")
            context.update(result=result, filename=upload.name)
    return render(request, "customers/import.html", context, status=status)


@login_required
def customer_export(request: HttpRequest) -> HttpResponse:
    as_xlsx = request.GET.get("format") == "xlsx"
    return exports.download(_selected(_filters(request)), "xlsx" if as_xlsx else "csv")
