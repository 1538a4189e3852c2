"""Catalog rows for tests: factories that build the minimum valid row, and `standard_catalog`, the tax
codes, rates, products and price list most tests start from, made through the services as a supervisor
would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import factory

from billops.access.models import User
from billops.catalog import services
from billops.catalog.models import PriceList, PriceListItem, Product, TaxCode, TaxRate
from billops.ledger.accounts import REVENUE, control_account

SINCE = date(2026, 1, 1)


class TaxCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxCode
        django_get_or_create = ("code",)

    code = "VAT-STD"
    name = "VAT standard rate"
    kind = TaxCode.Kind.STANDARD


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    tax_code = factory.SubFactory(TaxCodeFactory)
    country = "DE"
    rate = Decimal("19")
    valid_from = SINCE


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P-{n + 100}")
    name = factory.Sequence(lambda n: f"Product {n + 100}")
    revenue_account = factory.LazyFunction(lambda: control_account(REVENUE))
    tax_code = factory.SubFactory(TaxCodeFactory)


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    code = factory.Sequence(lambda n: f"LIST-{n + 1}")
    name = "Standard prices"
    currency = "EUR"
    valid_from = SINCE
    is_default = True


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(ProductFactory)
    unit_price = Decimal("100")


def standard_catalog(supervisor: User) -> dict[str, Any]:
    """The usual tax codes with German rates, CONSULT (150 EUR, 135 from 10 hours) and BOOK (reduced
    rate) on the default EUR list STD-EUR, all through the services."""
    services.seed_tax_codes(actor=supervisor)
    services.add_tax_rate(tax_code="VAT-STD", country="DE", rate="19", valid_from=SINCE, actor=supervisor)
    services.add_tax_rate(tax_code="VAT-RED", country="DE", rate="7", valid_from=SINCE, actor=supervisor)
    consult = services.create_product(
        code="CONSULT",
        name="Consulting",
        unit="hour",
        revenue_account="4000",
        tax_code="VAT-STD",
        actor=supervisor,
    )
    book = services.create_product(
        code="BOOK", name="Handbook", revenue_account="4000", tax_code="VAT-RED", actor=supervisor
    )
    price_list = services.create_price_list(
        code="STD-EUR",
        name="Standard EUR",
        currency="EUR",
        valid_from=SINCE,
        is_default=True,
        actor=supervisor,
    )
    for product, quantity, price in (
        ("CONSULT", "0", "150"),
        ("CONSULT", "10", "135"),
        ("BOOK", "0", "24.95"),
    ):
        services.set_list_price(
            price_list_code="STD-EUR",
            product_code=product,
            unit_price=price,
            min_quantity=quantity,
            actor=supervisor,
        )
    return {"consult": consult, "book": book, "price_list": price_list}
