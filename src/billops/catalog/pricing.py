"""The unit price of a product for a customer, in a currency, for a quantity, on a date.

Where the price comes from, first match wins:
1. the customer's own rate (a contract or negotiated override) valid on the date;
2. the price list assigned to the customer, which must be in the invoice's currency;
3. the default price list of the currency valid on the date.
Within a source the volume break with the highest `min_quantity` not above the quantity applies.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from billops.catalog.models import CustomerPrice, CustomerPriceList, PriceList, PriceListItem, Product
from billops.core.errors import CurrencyMismatch, NotFound


@dataclass(frozen=True, slots=True)
class Price:
    unit_price: Decimal
    currency: str
    source: str  # said on the draft line: "customer rate (contract K-12)", "price list STD-EUR from 10"


def _valid_on(on: date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


class PriceBook:
    """The prices of one customer in one currency on one day. Each source is read once, on first need,
    so a document of many lines costs one query per line for the price lists and no more."""

    def __init__(self, *, customer_id: int, currency: str, on: date) -> None:
        self.customer_id, self.currency, self.on = customer_id, currency, on
        self._own_rates: dict[int, list[CustomerPrice]] | None = None
        self._price_lists: list[PriceList] | None = None

    def price(self, product: Product, quantity: Decimal) -> Price:
        """The unit price to charge; NotFound names the product, currency and date when nothing prices it."""
        price = self._own_rate(product, quantity) or self._list_price(product, quantity)
        if price is None:
            raise NotFound(
                f"no price for {product.code} in {self.currency} on {self.on.isoformat()}: give a unit price "
                "on the line, or add the product to a price list",
                field="unit_price",
            )
        return price

    def _own_rate(self, product: Product, quantity: Decimal) -> Price | None:
        if self._own_rates is None:
            self._own_rates = defaultdict(list)
            valid = CustomerPrice.objects.filter(customer_id=self.customer_id, currency=self.currency)
            for rate in valid.filter(_valid_on(self.on)).order_by():  # unordered: no joins to sort by
                self._own_rates[rate.product_id].append(rate)
        rates = self._own_rates.get(product.pk)
        if not rates:
            return None
        latest_start = max(rate.valid_from for rate in rates)
        current = sorted((rate for rate in rates if rate.valid_from == latest_start), key=_by_min_quantity)
        applying = [rate for rate in current if rate.min_quantity <= quantity]
        if not applying:
            return None
        reference = next((rate.contract_reference for rate in current if rate.contract_reference), "")
        source = f"customer rate ({reference})" if reference else "customer rate"
        return Price(applying[-1].unit_price, self.currency, source)

    def _lists(self) -> list[PriceList]:
        """The customer's own price list if it is valid on the day, then the currency's default lists."""
        if self._price_lists is None:
            lists = []
            assigned = (
                CustomerPriceList.objects.filter(customer_id=self.customer_id)
                .select_related("price_list")
                .first()
            )
            if assigned is not None:
                price_list = assigned.price_list
                if price_list.currency != self.currency:
                    raise CurrencyMismatch(
                        f"the customer's price list {price_list.code} is in {price_list.currency}, "
                        f"the invoice in {self.currency}",
                        field="currency",
                    )
                if price_list.valid_from <= self.on and (
                    price_list.valid_to is None or self.on <= price_list.valid_to
                ):
                    lists.append(price_list)
            defaults = PriceList.objects.filter(currency=self.currency, is_default=True).filter(
                _valid_on(self.on)
            )
            lists += defaults.order_by("-valid_from")
            self._price_lists = lists
        return self._price_lists

    def _list_price(self, product: Product, quantity: Decimal) -> Price | None:
        """From the first list that has the product, at the volume break that applies to the quantity."""
        lists = self._lists()
        if not lists:
            return None
        items = (
            PriceListItem.objects.filter(
                price_list_id__in=[price_list.pk for price_list in lists],
                product=product,
                min_quantity__lte=quantity,
            )
            .order_by()  # unordered: no joins to sort by
            .values_list("price_list_id", "unit_price", "min_quantity")
        )
        breaks: dict[int, tuple[Decimal, Decimal]] = {}
        for price_list_id, unit_price, min_quantity in items:
            if price_list_id not in breaks or min_quantity > breaks[price_list_id][1]:
                breaks[price_list_id] = (unit_price, min_quantity)
        for price_list in lists:
            if price_list.pk in breaks:
                unit_price, min_quantity = breaks[price_list.pk]
                tier = f" from {min_quantity.normalize():f}" if min_quantity else ""
                return Price(unit_price, price_list.currency, f"price list {price_list.code}{tier}")
        return None


def _by_min_quantity(rate: CustomerPrice) -> Decimal:
    return rate.min_quantity


def price_for(*, customer_id: int, product: Product, currency: str, quantity: Decimal, on: date) -> Price:
    """The unit price of one product; a document's lines share one `PriceBook` instead."""
    return PriceBook(customer_id=customer_id, currency=currency, on=on).price(product, quantity)
