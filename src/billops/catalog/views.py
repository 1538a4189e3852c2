"""Staff pages for the catalog: products, tax codes and rate tables, price lists, a customer's rates.
Thin, like the API: parse the form, call one service or selector, show the result or its errors. Every
signed-in role reads every page; the forms show to those whose role may use them, and a refused action
comes back on its form (403)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can
from billops.catalog import selectors, services
from billops.catalog.forms import (
    AssignPriceListForm,
    CustomerPriceForm,
    EndPriceForm,
    ListPriceForm,
    PriceListForm,
    ProductForm,
    RateImportForm,
    ServiceForm,
    TaxCodeForm,
    TaxRateForm,
)
from billops.catalog.models import PriceList, Product
from billops.catalog.services.products import product_state
from billops.catalog.validation import clean_optional_date
from billops.core.errors import DomainError, NotFound
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.ledger.models import AccountType
from billops.ledger.selectors import list_accounts

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def _found(lookup: Any, *args: Any) -> Any:
    try:
        return lookup(*args)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None  # an empty POST is still a submitted form


def _show(request: HttpRequest, form: ServiceForm, exc: DomainError) -> int:
    """Put the error at its field; a refusal for the role also goes on top, as its form is hidden."""
    status = form.show_error(exc)
    if status == 403:
        messages.error(request, exc.message)
    return status


def _day(request: HttpRequest) -> tuple[date, str]:
    """The day a page shows (?on=YYYY-MM-DD, today by default) and the problem with what was typed."""
    try:
        return clean_optional_date(request.GET.get("on", ""), "on") or clock.today(), ""
    except DomainError as exc:
        return clock.today(), exc.message


# --- products --------------------------------------------------------------------------------------


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    search, active = request.GET.get("search", "").strip(), request.GET.get("active", "")
    products = selectors.list_products(search=search, active={"1": True, "0": False}.get(active))
    page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = {k: v for k, v in {"search": search, "active": active}.items() if v}
    context = {"page": page, "search": search, "active": active, "kept": kept}
    return render(
        request, "catalog/products.html", {**context, "may_manage": can(request.user, "catalog.manage")}
    )


@login_required
def product_detail(request: HttpRequest, code: str) -> HttpResponse:
    product = _found(selectors.get_product, code)
    context = {
        "product": product,
        "list_prices": selectors.product_list_prices(product),
        "customer_prices": selectors.product_customer_prices(product),
        "events": selectors.product_history(product)[:100],
        "may_manage": can(request.user, "catalog.manage"),
        "today": clock.today(),
    }
    return render(request, "catalog/product_detail.html", context)


def _product_form(
    request: HttpRequest, *, editing: bool = False, initial: dict[str, Any] | None = None
) -> ProductForm:
    accounts = list_accounts(active_only=True).filter(type=AccountType.REVENUE)
    tax_codes = selectors.list_tax_codes().filter(is_active=True)
    return ProductForm(
        _posted(request),
        initial=initial or {"unit": "each"},
        accounts=accounts,
        tax_codes=tax_codes,
        editing=editing,
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    form, status = _product_form(request), 200
    if request.method == "POST":
        try:
            product = services.create_product(**form.raw(), actor=_user(request))
        except DomainError as exc:
            status = form.show_error(exc)
        else:
            messages.success(request, f"Product {product.code} created.")
            return redirect("catalog:product", product.code)
    return render(request, "catalog/product_form.html", {"form": form, "title": "New product"}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, code: str) -> HttpResponse:
    product: Product = _found(selectors.get_product, code)
    form, status = _product_form(request, editing=True, initial=product_state(product)), 200
    if request.method == "POST":
        try:
            services.change_product(product_code=product.code, changes=form.raw(), actor=_user(request))
        except DomainError as exc:
            status = form.show_error(exc)
        else:
            messages.success(request, f"Product {product.code} saved.")
            return redirect("catalog:product", product.code)
    context = {"form": form, "title": f"Edit {product.code}", "product": product}
    return render(request, "catalog/product_form.html", context, status=status)


@login_required
@require_POST
def product_deactivate(request: HttpRequest, code: str) -> HttpResponse:
    product: Product = _found(selectors.get_product, code)
    try:
        services.deactivate_product(product_code=product.code, actor=_user(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Product {product.code} is no longer sold.")
    return redirect("catalog:product", product.code)


# --- tax codes and rates ---------------------------------------------------------------------------


def _tax_page(request: HttpRequest, status: int = 200, **forms: Any) -> HttpResponse:
    on, date_problem = _day(request)
    country = request.GET.get("country", "").strip().upper()
    codes, rows = selectors.rate_table(on=on, country=country)
    active_codes = selectors.list_tax_codes().filter(is_active=True)
    context = {
        "on": on,
        "date_problem": date_problem,
        "country": country,
        "tax_codes": selectors.list_tax_codes(on=on),
        "rate_codes": codes,
        "rows": rows,
        "code_form": forms.get("code_form") or TaxCodeForm(initial={"kind": "standard"}),
        "rate_form": forms.get("rate_form") or TaxRateForm(tax_codes=active_codes),
        "import_form": forms.get("import_form") or RateImportForm(),
        "result": forms.get("result"),
        "filename": forms.get("filename", ""),
        "may_manage": can(request.user, "catalog.manage"),
    }
    return render(request, "catalog/tax_codes.html", context, status=status)


@login_required
def tax_codes(request: HttpRequest) -> HttpResponse:
    return _tax_page(request)


@login_required
@require_POST
def tax_code_create(request: HttpRequest) -> HttpResponse:
    form = TaxCodeForm(request.POST)
    try:
        tax_code = services.create_tax_code(**form.raw(), actor=_user(request))
    except DomainError as exc:
        return _tax_page(request, _show(request, form, exc), code_form=form)
    messages.success(request, f"Tax code {tax_code.code} created.")
    return redirect("catalog:tax_codes")


@login_required
@require_POST
def tax_rate_add(request: HttpRequest) -> HttpResponse:
    form = TaxRateForm(request.POST, tax_codes=selectors.list_tax_codes().filter(is_active=True))
    try:
        rate = services.add_tax_rate(**form.raw(), actor=_user(request))
    except DomainError as exc:
        return _tax_page(request, _show(request, form, exc), rate_form=form)
    messages.success(request, f"Rate added: {rate}.")
    return redirect("catalog:tax_codes")


@login_required
@require_POST
def tax_rates_import(request: HttpRequest) -> HttpResponse:
    form = RateImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _tax_page(request, 200, import_form=form)
    upload = form.cleaned_data["file"]
    try:
        result = services.import_tax_rates(content=upload.read(), filename=upload.name, actor=_user(request))
    except DomainError as exc:  # the role may not import: the form is hidden from it
        messages.error(request, exc.message)
        return _tax_page(request, exc.http_status, import_form=form)
    if not result.ok:
        return _tax_page(request, 200, import_form=form, result=result, filename=upload.name)
    if result.created or result.closed:
        closed = f", {result.closed} earlier rates ended" if result.closed else ""
        messages.success(request, f"Imported {result.created} rates from {upload.name}{closed}.")
    else:
        messages.info(request, f"Every rate of {upload.name} is there already; nothing changed.")
    return redirect("catalog:tax_codes")


# --- price lists -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def price_lists(request: HttpRequest) -> HttpResponse:
    form = PriceListForm(_posted(request), initial={"currency": "EUR", "valid_from": clock.today()})
    status = 200
    if request.method == "POST":
        try:
            price_list = services.create_price_list(**form.raw(), actor=_user(request))
        except DomainError as exc:
            status = _show(request, form, exc)
        else:
            messages.success(request, f"Price list {price_list.code} created.")
            return redirect("catalog:price_list", price_list.code)
    context = {
        "lists": selectors.list_price_lists(),
        "form": form,
        "may_manage": can(request.user, "catalog.manage"),
    }
    return render(request, "catalog/price_lists.html", context, status=status)


def _price_list_page(
    request: HttpRequest, price_list: PriceList, status: int = 200, **forms: Any
) -> HttpResponse:
    products = selectors.list_products(active=True)
    context = {
        "price_list": price_list,
        "items": selectors.list_price_list_items(price_list),
        "events": selectors.price_list_history(price_list)[:100],
        "form": forms.get("form") or ListPriceForm(initial={"min_quantity": "0"}, products=products),
        "may_manage": can(request.user, "catalog.manage"),
    }
    return render(request, "catalog/price_list_detail.html", context, status=status)


@login_required
def price_list_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _price_list_page(request, _found(selectors.get_price_list, code))


@login_required
@require_POST
def list_price_set(request: HttpRequest, code: str) -> HttpResponse:
    price_list: PriceList = _found(selectors.get_price_list, code)
    form = ListPriceForm(request.POST, products=selectors.list_products(active=True))
    try:
        services.set_list_price(price_list_code=price_list.code, **form.raw(), actor=_user(request))
    except DomainError as exc:
        return _price_list_page(request, price_list, _show(request, form, exc), form=form)
    messages.success(request, "Price set.")
    return redirect("catalog:price_list", price_list.code)


@login_required
@require_POST
def list_price_remove(request: HttpRequest, code: str) -> HttpResponse:
    price_list: PriceList = _found(selectors.get_price_list, code)
    try:
        services.remove_list_price(
            price_list_code=price_list.code,
            product_code=request.POST.get("product_code", ""),
            min_quantity=request.POST.get("min_quantity", "0"),
            actor=_user(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Price removed.")
    return redirect("catalog:price_list", price_list.code)


# --- a customer's rates ----------------------------------------------------------------------------


def _customer_page(request: HttpRequest, customer: Customer, status: int = 200, **forms: Any) -> HttpResponse:
    products = selectors.list_products(active=True)
    lists = selectors.list_price_lists(currency=customer.currency)
    assigned = selectors.customer_price_list(customer.pk)
    initial = {"min_quantity": "0", "valid_from": clock.today()}
    context = {
        "customer": customer,
        "prices": selectors.list_customer_prices(customer_id=customer.pk),
        "assigned": assigned,
        "today": clock.today(),
        "events": selectors.customer_price_history(customer)[:100],
        "form": forms.get("form") or CustomerPriceForm(initial=initial, products=products),
        "assign_form": forms.get("assign_form")
        or AssignPriceListForm(initial={"price_list": assigned.code if assigned else ""}, price_lists=lists),
        "end_error": forms.get("end_error"),
        "may_set": can(request.user, "catalog.set_customer_price"),
    }
    return render(request, "catalog/customer_prices.html", context, status=status)


@login_required
def customer_prices(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _customer_page(request, _found(get_customer, customer_id))


def _customer_action(
    request: HttpRequest, customer: Customer, form: ServiceForm, name: str, action: Any
) -> HttpResponse:
    """Run one form's action on the customer's rates page, or show the page again with the error at its
    field (`name` is the form's name in the page's context)."""
    try:
        action(form.raw())
    except DomainError as exc:
        return _customer_page(request, customer, _show(request, form, exc), **{name: form})
    messages.success(request, "Saved.")
    return redirect("catalog:customer_prices", customer.pk)


@login_required
@require_POST
def customer_price_set(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer: Customer = _found(get_customer, customer_id)
    form = CustomerPriceForm(request.POST, products=selectors.list_products(active=True))
    return _customer_action(
        request,
        customer,
        form,
        "form",
        lambda raw: services.set_customer_price(customer_id=customer.pk, **raw, actor=_user(request)),
    )


@login_required
@require_POST
def price_list_assign(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer: Customer = _found(get_customer, customer_id)
    lists = selectors.list_price_lists(currency=customer.currency)
    form = AssignPriceListForm(request.POST, price_lists=lists)
    return _customer_action(
        request,
        customer,
        form,
        "assign_form",
        lambda raw: services.assign_price_list(
            customer_id=customer.pk, price_list_code=raw["price_list"], actor=_user(request)
        ),
    )


@login_required
@require_POST
def customer_price_end(request: HttpRequest, customer_id: int, price_id: int) -> HttpResponse:
    customer: Customer = _found(get_customer, customer_id)
    form = EndPriceForm(request.POST)
    try:
        services.end_customer_price(
            customer_id=customer.pk,
            customer_price_id=price_id,
            valid_to=form.raw()["valid_to"],
            actor=_user(request),
        )
    except DomainError as exc:
        status = 403 if exc.code == "permission_denied" else 200
        return _customer_page(request, customer, status, end_error=exc)
    messages.success(request, "Rate ended.")
    return redirect("catalog:customer_prices", customer.pk)
