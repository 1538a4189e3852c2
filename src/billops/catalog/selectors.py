"""Reads of the catalog for the API, the staff pages and the CLI, and the price-and-tax quote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from billops.audit.models import AuditEvent
from billops.audit.selectors import history_of
from billops.catalog.models import (
    CustomerPrice,
    CustomerPriceList,
    PriceList,
    PriceListItem,
    Product,
    TaxCode,
    TaxRate,
)
from billops.catalog.pricing import Price, price_for
from billops.catalog.tax import Exemption, TaxDecision, TaxParty, decide_tax
from billops.catalog.validation import clean_quantity
from billops.core.db import given
from billops.core.errors import NotFound
from billops.customers.models import Address, Customer
from billops.customers.selectors import get_customer


def valid_on(on: date) -> Q:
    """Rows whose span of dates (valid_from, valid_to inclusive) covers the day."""
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


# --- tax codes and rates ---------------------------------------------------------------------------


def get_tax_code(code: str, *, for_update: bool = False, field: str = "tax_code") -> TaxCode:
    """One tax code by its code (any case), or NotFound; `for_update` locks it (and so its rate table)."""
    codes = TaxCode.objects.select_for_update() if for_update else TaxCode.objects.all()
    found = codes.filter(code=code.strip().upper()).first()
    if found is None:
        raise NotFound(f"there is no tax code {code.strip()!r}", field=field)
    return found


def list_tax_codes(*, on: date | None = None) -> QuerySet[TaxCode]:
    """Every tax code; with `on`, each one's `current_rates` holds its rates valid that day."""
    codes = TaxCode.objects.order_by("code")
    if on is None:
        return codes
    rates = (
        TaxRate.objects.filter(valid_on(on))
        .select_related("tax_code")
        .order_by("country", "region", "locality")
    )
    return codes.prefetch_related(Prefetch("rates", queryset=rates, to_attr="current_rates"))


def list_tax_rates(*, tax_code: TaxCode, country: str = "", on: date | None = None) -> QuerySet[TaxRate]:
    """The rate table of a code, past and future rates included unless `on` picks a day."""
    rates = TaxRate.objects.filter(tax_code=tax_code, **given(country=country.strip().upper()))
    if on is not None:
        rates = rates.filter(valid_on(on))
    return rates.select_related("tax_code").order_by("country", "region", "locality", "valid_from")


def effective_rates(*, on: date, tax_code: str = "", country: str = "") -> QuerySet[TaxRate]:
    """Every rate in force on the day, by code and place."""
    rates = TaxRate.objects.filter(valid_on(on)).filter(
        **given(tax_code__code=tax_code.strip().upper(), country=country.strip().upper())
    )
    return rates.select_related("tax_code").order_by("tax_code__code", "country", "region", "locality")


@dataclass(frozen=True)
class RateRow:
    """One place in the rate table page: its rate per tax code on the day, in the table's column order."""

    country: str
    region: str
    locality: str
    cells: list[TaxRate | None]


def rate_table(*, on: date, country: str = "") -> tuple[list[str], list[RateRow]]:
    """Rates in force on the day as a table: one column per tax code, one row per place."""
    places: dict[tuple[str, str, str], dict[str, TaxRate]] = {}
    for rate in effective_rates(on=on, country=country):
        places.setdefault((rate.country, rate.region, rate.locality), {})[rate.tax_code.code] = rate
    codes = sorted({code for rates in places.values() for code in rates})
    rows = [RateRow(*place, [rates.get(code) for code in codes]) for place, rates in sorted(places.items())]
    return codes, rows


def tax_code_history(tax_code: TaxCode) -> QuerySet[AuditEvent]:
    return history_of(tax_code)


# --- products --------------------------------------------------------------------------------------


def _products() -> QuerySet[Product]:
    return Product.objects.select_related("revenue_account", "tax_code")


def get_product(code: str, *, for_update: bool = False, field: str = "product_code") -> Product:
    """One product by its charge code (any case), or NotFound."""
    products = Product.objects.select_for_update(of=("self",)) if for_update else _products()
    found = products.filter(code=code.strip().upper()).first()
    if found is None:
        raise NotFound(f"there is no product with code {code.strip()!r}", field=field)
    return found


def list_products(*, search: str = "", active: bool | None = None) -> QuerySet[Product]:
    """Products by code; `search` looks in codes, names and descriptions."""
    products = _products().filter(**given(is_active=active))
    if search := search.strip():
        products = products.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(description__icontains=search)
        )
    return products.order_by("code")


def product_list_prices(product: Product) -> QuerySet[PriceListItem]:
    """The product's prices on every list, with their volume breaks."""
    return (
        PriceListItem.objects.filter(product=product)
        .select_related("price_list")
        .order_by("price_list__currency", "price_list__code", "min_quantity")
    )


def product_customer_prices(product: Product) -> QuerySet[CustomerPrice]:
    """Every customer's own rate for the product, newest first."""
    return (
        CustomerPrice.objects.filter(product=product)
        .select_related("customer", "created_by")
        .order_by("customer__account_number", "-valid_from", "min_quantity")
    )


def product_history(product: Product) -> QuerySet[AuditEvent]:
    return history_of(product)


# --- price lists -----------------------------------------------------------------------------------


def get_price_list(code: str, *, for_update: bool = False, field: str = "price_list") -> PriceList:
    """One price list by its code (any case), or NotFound."""
    lists = PriceList.objects.select_for_update() if for_update else PriceList.objects.all()
    found = lists.filter(code=code.strip().upper()).first()
    if found is None:
        raise NotFound(f"there is no price list {code.strip()!r}", field=field)
    return found


def list_price_lists(*, currency: str = "") -> QuerySet[PriceList]:
    """Price lists by currency, newest first, each with its `item_count`."""
    lists = PriceList.objects.filter(**given(currency=currency.strip().upper()))
    return lists.annotate(item_count=Count("items")).order_by("currency", "-valid_from", "code")


def list_price_list_items(price_list: PriceList) -> QuerySet[PriceListItem]:
    return (
        PriceListItem.objects.filter(price_list=price_list)
        .select_related("product", "price_list")
        .order_by("product__code", "min_quantity")
    )


def price_list_history(price_list: PriceList) -> QuerySet[AuditEvent]:
    """Every audited change of the list and its prices, newest first."""
    return history_of(price_list)


# --- customers' prices -----------------------------------------------------------------------------


def list_customer_prices(*, customer_id: int, on: date | None = None) -> QuerySet[CustomerPrice]:
    """A customer's own rates, all of them or those valid on a day."""
    prices = CustomerPrice.objects.filter(customer_id=customer_id)
    if on is not None:
        prices = prices.filter(valid_on(on))
    return prices.select_related("product", "created_by").order_by(
        "product__code", "-valid_from", "min_quantity"
    )


def get_customer_price(*, customer_id: int, price_id: int, for_update: bool = False) -> CustomerPrice:
    """One of the customer's rates, or NotFound."""
    prices = CustomerPrice.objects.select_for_update(of=("self",)) if for_update else CustomerPrice.objects
    found = prices.select_related("product").filter(pk=price_id, customer_id=customer_id).first()
    if found is None:
        raise NotFound(f"customer {customer_id} has no rate {price_id}", field="price_id")
    return found


def customer_price_list(customer_id: int) -> PriceList | None:
    """The price list assigned to the customer, or None when the default list of its currency applies."""
    assigned = CustomerPriceList.objects.filter(customer_id=customer_id).select_related("price_list").first()
    return assigned.price_list if assigned else None


def customer_price_history(customer: Customer) -> QuerySet[AuditEvent]:
    """The catalog's audited changes of a customer's rates and price list, newest first."""
    return history_of(customer).filter(action__startswith="catalog.")


# --- quote -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quote:
    """The unit price a customer would be charged and the tax treatment of the line."""

    customer_id: int
    product_code: str
    quantity: Decimal
    on: date
    price: Price
    tax: TaxDecision


def buyer_party(customer: Customer) -> tuple[TaxParty, Exemption | None]:
    """The customer's tax facts at its shipping address (else billing address, else its country) and its
    exemption certificate, if it has one."""
    addresses = {address.kind: address for address in customer.addresses.all()}
    place = addresses.get(Address.Kind.SHIPPING) or addresses.get(Address.Kind.BILLING)
    buyer = TaxParty(
        country=place.country if place else customer.country,
        region=place.region.strip().upper() if place else "",
        postal_code=place.postal_code if place else "",
        vat_id=customer.vat_id,
    )
    exemption = None
    if customer.tax_status == Customer.TaxStatus.EXEMPT and customer.exemption_expires_on:
        exemption = Exemption(customer.exemption_certificate, customer.exemption_expires_on)
    return buyer, exemption


def quote(*, customer_id: int, product_code: str, quantity: object, on: date, seller: TaxParty) -> Quote:
    """What a line of the product would cost the customer on the day, in its currency, and how it is taxed;
    NotFound names what is missing (the price, or the rate of the place)."""
    customer = get_customer(customer_id)
    product = get_product(product_code)
    amount = clean_quantity(quantity, "quantity", positive=True)
    price = price_for(
        customer_id=customer.pk, product=product, currency=customer.currency, quantity=amount, on=on
    )
    buyer, exemption = buyer_party(customer)
    tax = decide_tax(tax_code=product.tax_code, seller=seller, buyer=buyer, on=on, exemption=exemption)
    return Quote(customer.pk, product.code, amount, on, price, tax)
