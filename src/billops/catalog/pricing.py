"""The unit price of a product for a customer, in a currency, for a quantity, on a date.

Where the price comes from, first match wins:
1. the customer's own rate (a contract or negotiated override) valid on the date;
2. the price list assigned to the customer, which must be in the invoice's currency;
3. the default price list of the currency valid on the date.
Within a source the volume break with the highest `min_quantity` not above the quantity applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from billops.catalog.models import CustomerPrice, CustomerPriceList, PriceList, PriceListItem, Product
from billops.core.errors import CurrencyMismatch, NotFound


@dataclass(frozen=True, slots=True)
class Price:
    unit_price: Decimal
    currency: str
    source: str  # said on the draft line: "customer rate (contract K-12)", "price list STD-EUR from 10"


def _valid_on(on: date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def _break_for(rows: QuerySet, quantity: Decimal) -> tuple[Decimal, Decimal] | None:
    """(unit price, min quantity) of the volume break that applies to the quantity."""
    return (
        rows.filter(min_quantity__lte=quantity)
        .order_by("-min_quantity")
        .values_list("unit_price", "min_quantity")
        .first()
    )


def _from_list(price_list: PriceList, product: Product, quantity: Decimal) -> Price | None:
    found = _break_for(PriceListItem.objects.filter(price_list=price_list, product=product), quantity)
    if found is None:
        return None
    unit_price, min_quantity = found
    tier = f" from {min_quantity.normalize():f}" if min_quantity else ""
    return Price(unit_price, price_list.currency, f"price list {price_list.code}{tier}")


def price_for(*, customer_id: int, product: Product, currency: str, quantity: Decimal, on: date) -> Price:
    """The unit price to charge; NotFound names the product, currency and date when nothing prices it."""
    own = CustomerPrice.objects.filter(customer_id=customer_id, product=product, currency=currency).filter(
        _valid_on(on)
    )
    latest_start = own.order_by("-valid_from").values_list("valid_from", flat=True).first()
    if latest_start is not None:
        rows = own.filter(valid_from=latest_start)
        found = _break_for(rows, quantity)
        if found is not None:
            reference = (
                rows.exclude(contract_reference="").values_list("contract_reference", flat=True).first()
            )
            return Price(found[0], currency, f"customer rate ({reference})" if reference else "customer rate")
    assigned = CustomerPriceList.objects.filter(customer_id=customer_id).select_related("price_list").first()
    if assigned is not None:
        price_list = assigned.price_list
        if price_list.currency != currency:
            raise CurrencyMismatch(
                f"the customer's price list {price_list.code} is in {price_list.currency}, "
                f"the invoice in {currency}",
                field="currency",
            )
        valid = PriceList.objects.filter(pk=price_list.pk).filter(_valid_on(on)).exists()
        price = _from_list(price_list, product, quantity) if valid else None
        if price is not None:
            return price
    default = (
        PriceList.objects.filter(currency=currency, is_default=True)
        .filter(_valid_on(on))
        .order_by("-valid_from")
    )
    for price_list in default:
        price = _from_list(price_list, product, quantity)
        if price is not None:
            return price
    raise NotFound(
        f"no price for {product.code} in {currency} on {on.isoformat()}: give a unit price on the line, "
        "or add the product to a price list",
        field="unit_price",
    )
