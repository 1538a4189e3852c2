"""Where a unit price comes from: the customer's own rate, its price list, the default list of the
currency; volume breaks inside each; and a clear error when nothing prices the product."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import User
from billops.catalog import services
from billops.catalog.pricing import Price, price_for
from billops.core.errors import CurrencyMismatch, NotFound
from billops.customers import services as customer_services
from billops.customers.models import Customer
from tests.catalog.factories import SINCE, standard_catalog
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

ON = date(2026, 3, 1)


@pytest.fixture
def catalog(supervisor: User) -> dict[str, Any]:
    return standard_catalog(supervisor)


@pytest.fixture
def customer(clerk: User, catalog: dict[str, Any]) -> Customer:
    return create_customer(clerk, account_number="C-1")


def price(
    customer: Customer, catalog: dict[str, Any], quantity: str = "1", on: date = ON, **kw: Any
) -> Price:
    return price_for(
        customer_id=customer.pk,
        product=kw.get("product", catalog["consult"]),
        currency=kw.get("currency", "EUR"),
        quantity=Decimal(quantity),
        on=on,
    )


def test_the_default_list_of_the_currency_prices_everyone(
    customer: Customer, catalog: dict[str, Any]
) -> None:
    assert price(customer, catalog) == Price(Decimal("150"), "EUR", "price list STD-EUR")


def test_a_volume_break_from_10_gives_the_lower_price(customer: Customer, catalog: dict[str, Any]) -> None:
    assert price(customer, catalog, "9.9999").unit_price == Decimal("150")
    assert price(customer, catalog, "10") == Price(Decimal("135"), "EUR", "price list STD-EUR from 10")
    assert price(customer, catalog, "250").unit_price == Decimal("135")


def test_the_customers_own_rate_beats_every_list(
    customer: Customer, catalog: dict[str, Any], supervisor: User, clerk: User
) -> None:
    services.set_customer_price(
        customer_id=customer.pk, product_code="CONSULT", unit_price="120", valid_from=SINCE,
        contract_reference="K-12", actor=clerk,
    )  # fmt: skip
    services.create_price_list(code="VIP-EUR", name="VIP", currency="EUR", valid_from=SINCE, actor=supervisor)
    services.set_list_price(
        price_list_code="VIP-EUR", product_code="CONSULT", unit_price="99", actor=supervisor
    )
    services.assign_price_list(customer_id=customer.pk, price_list_code="VIP-EUR", actor=clerk)
    assert price(customer, catalog, "50") == Price(Decimal("120"), "EUR", "customer rate (K-12)")


def test_an_ended_customer_rate_gives_way_to_the_lists(
    customer: Customer, catalog: dict[str, Any], clerk: User
) -> None:
    rate = services.set_customer_price(
        customer_id=customer.pk, product_code="CONSULT", unit_price="120", valid_from=SINCE, actor=clerk
    )
    services.end_customer_price(
        customer_id=customer.pk, customer_price_id=rate.pk, valid_to="2026-02-28", actor=clerk
    )
    assert price(customer, catalog, on=date(2026, 2, 28)).source == "customer rate"
    assert price(customer, catalog, on=date(2026, 3, 1)).source == "price list STD-EUR"


def test_the_assigned_list_comes_before_the_default_list(
    customer: Customer, catalog: dict[str, Any], supervisor: User, clerk: User
) -> None:
    services.create_price_list(code="VIP-EUR", name="VIP", currency="EUR", valid_from=SINCE, actor=supervisor)
    services.set_list_price(
        price_list_code="VIP-EUR", product_code="CONSULT", unit_price="99.5", actor=supervisor
    )
    services.assign_price_list(customer_id=customer.pk, price_list_code="VIP-EUR", actor=clerk)
    assert price(customer, catalog) == Price(Decimal("99.5"), "EUR", "price list VIP-EUR")
    # a product the assigned list does not carry is priced by the default list
    assert price(customer, catalog, product=catalog["book"]) == Price(
        Decimal("24.95"), "EUR", "price list STD-EUR"
    )


def test_an_assigned_list_in_another_currency_is_a_mismatch(
    customer: Customer, catalog: dict[str, Any], supervisor: User, clerk: User
) -> None:
    services.create_price_list(code="VIP-EUR", name="VIP", currency="EUR", valid_from=SINCE, actor=supervisor)
    services.assign_price_list(customer_id=customer.pk, price_list_code="VIP-EUR", actor=clerk)
    customer_services.change_customer(customer_id=customer.pk, changes={"currency": "USD"}, actor=clerk)
    with pytest.raises(CurrencyMismatch) as refused:
        price(customer, catalog, currency="USD")
    assert refused.value.message == "the customer's price list VIP-EUR is in EUR, the invoice in USD"


def test_an_expired_list_is_not_used(customer: Customer, catalog: dict[str, Any], supervisor: User) -> None:
    services.create_price_list(
        code="OLD-EUR", name="2025 prices", currency="EUR", valid_from="2025-01-01", valid_to="2025-12-31",
        is_default=True, actor=supervisor,
    )  # fmt: skip
    services.set_list_price(
        price_list_code="OLD-EUR", product_code="CONSULT", unit_price="140", actor=supervisor
    )
    assert price(customer, catalog, on=date(2025, 12, 31)) == Price(
        Decimal("140"), "EUR", "price list OLD-EUR"
    )
    assert price(customer, catalog, on=date(2026, 1, 1)).source == "price list STD-EUR"


def test_nothing_to_price_it_names_product_currency_and_date(
    customer: Customer, catalog: dict[str, Any]
) -> None:
    with pytest.raises(NotFound) as missing:
        price(customer, catalog, currency="USD", on=date(2026, 4, 15))
    assert missing.value.message.startswith("no price for CONSULT in USD on 2026-04-15")
    assert missing.value.field == "unit_price"
