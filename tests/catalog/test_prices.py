"""Price lists, their prices and customers' own rates and lists: what each service stores and audits, and
that a refused action changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.catalog import services
from billops.catalog.errors import CatalogInvalid
from billops.catalog.models import CustomerPrice, CustomerPriceList, PriceListItem, TaxRate
from billops.core.errors import (
    CurrencyMismatch,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UnknownCurrency,
)
from tests.catalog.factories import SINCE, standard_catalog
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()  # type: ignore[return-value]


# --- price lists -----------------------------------------------------------------------------------


def test_create_price_list_refuses_bad_currency_and_backwards_dates(supervisor: User, unchanged) -> None:
    with unchanged(), pytest.raises(CatalogInvalid) as refused:
        services.create_price_list(
            code="STD-XXX", name="Bad", currency="XXX", valid_from="2026-02-01", valid_to="2026-01-31",
            actor=supervisor,
        )  # fmt: skip
    assert [(type(e), e.field) for e in refused.value.errors] == [
        (UnknownCurrency, "currency"),
        (InvalidInput, "valid_to"),
    ]


def test_set_list_price_creates_then_replaces_with_before_and_after(supervisor: User) -> None:
    catalog = standard_catalog(supervisor)
    services.set_list_price(
        price_list_code="std-eur",
        product_code="BOOK",
        unit_price="19.990000",
        min_quantity="100",
        actor=supervisor,
    )
    created = last_event()
    assert (created.action, created.target_type, created.target_id) == (
        "catalog.list_price_set",
        "catalog.pricelist",
        str(catalog["price_list"].pk),
    )
    assert created.before is None
    assert created.after == {
        "product": "BOOK",
        "min_quantity": "100",
        "unit_price": "19.990000",
        "currency": "EUR",
    }
    item = services.set_list_price(
        price_list_code="STD-EUR",
        product_code="BOOK",
        unit_price="18.5",
        min_quantity="100",
        actor=supervisor,
    )
    assert item.unit_price == Decimal("18.5")
    assert PriceListItem.objects.filter(product__code="BOOK").count() == 2
    replaced = last_event()
    assert replaced.before == {"product": "BOOK", "min_quantity": "100", "unit_price": "19.990000"}
    assert replaced.after is not None and replaced.after["unit_price"] == "18.5"
    events = AuditEvent.objects.count()
    services.set_list_price(
        price_list_code="STD-EUR",
        product_code="BOOK",
        unit_price="18.50",
        min_quantity="100.0",
        actor=supervisor,
    )
    assert AuditEvent.objects.count() == events  # the same price again is no change


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"unit_price": "-0.01"}, "unit_price", "unit price must not be negative, got -0.01"),
        ({"unit_price": "1.1234567"}, "unit_price", "unit price 1.1234567 has more than 6 decimal places"),
        ({"unit_price": "1e3"}, "unit_price", "unit_price '1e3' is not a number like 1234.50"),
        ({"min_quantity": "1.12345"}, "min_quantity", "quantity 1.12345 has more than 4 decimal places"),
        ({"min_quantity": "-1"}, "min_quantity", "min_quantity must be zero or more, got -1"),
        ({"product_code": "NOPE"}, "product_code", "there is no product with code 'NOPE'"),
    ],
)
def test_bad_list_prices_are_refused(supervisor: User, unchanged, changes, field, message) -> None:
    standard_catalog(supervisor)
    values = {"product_code": "BOOK", "unit_price": "20", "min_quantity": "0", **changes}
    with unchanged(), pytest.raises(DomainError) as refused:
        services.set_list_price(price_list_code="STD-EUR", **values, actor=supervisor)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_remove_list_price_audits_what_was_removed(supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    services.remove_list_price(
        price_list_code="STD-EUR", product_code="CONSULT", min_quantity="10", actor=supervisor
    )
    assert list(
        PriceListItem.objects.filter(product__code="CONSULT").values_list("min_quantity", flat=True)
    ) == [0]
    event = last_event()
    assert (event.action, event.before, event.after) == (
        "catalog.list_price_removed",
        {"product": "CONSULT", "min_quantity": "10", "unit_price": "135.000000"},
        None,
    )
    with unchanged(), pytest.raises(NotFound) as refused:
        services.remove_list_price(
            price_list_code="STD-EUR", product_code="CONSULT", min_quantity="10", actor=supervisor
        )
    assert refused.value.message == "price list STD-EUR has no price for CONSULT from quantity 10"


# --- customers' rates and price lists --------------------------------------------------------------


def test_a_clerk_sets_a_customer_rate_and_it_is_traceable_to_the_clerk(supervisor: User, clerk: User) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk)
    rate = services.set_customer_price(
        customer_id=customer.pk, product_code="consult", unit_price="120", valid_from="2026-03-01",
        contract_reference="K-12", actor=clerk,
    )  # fmt: skip
    assert (rate.currency, rate.unit_price, rate.created_by, rate.valid_to) == (
        "EUR",
        Decimal("120"),
        clerk,
        None,
    )
    event = last_event()
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "catalog.customer_price_set",
        clerk,
        "customers.customer",
        str(customer.pk),
    )
    assert event.before is None
    assert event.after == {
        "customer_price_id": rate.pk,
        "product": "CONSULT",
        "currency": "EUR",
        "min_quantity": "0",
        "unit_price": "120",
        "valid_from": "2026-03-01",
        "valid_to": None,
        "contract_reference": "K-12",
    }


def test_setting_the_same_rate_again_replaces_it_with_before_and_after(supervisor: User, clerk: User) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk)
    first = services.set_customer_price(
        customer_id=customer.pk, product_code="CONSULT", unit_price="120", valid_from=SINCE, actor=clerk
    )
    second = services.set_customer_price(
        customer_id=customer.pk, product_code="CONSULT", unit_price="110", valid_from=SINCE, actor=supervisor
    )
    assert second.pk == first.pk and CustomerPrice.objects.count() == 1
    event = last_event()
    assert event.actor == supervisor
    key = {
        "customer_price_id": first.pk,
        "product": "CONSULT",
        "min_quantity": "0",
        "valid_from": "2026-01-01",
    }
    assert (event.before, event.after) == ({**key, "unit_price": "120.000000"}, {**key, "unit_price": "110"})


@pytest.mark.parametrize("role", ["collector", "auditor"])
def test_only_clerks_and_supervisors_set_customer_rates(
    supervisor, clerk, make_user, role, unchanged
) -> None:
    standard_catalog(supervisor)
    customer, actor = create_customer(clerk), make_user(role)
    with unchanged(), pytest.raises(PermissionDenied):
        services.set_customer_price(
            customer_id=customer.pk, product_code="CONSULT", unit_price="1", valid_from=SINCE, actor=actor
        )


def test_bad_customer_rates_are_refused(supervisor: User, clerk: User, unchanged) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk)
    with unchanged():
        with pytest.raises(CatalogInvalid) as refused:
            services.set_customer_price(
                customer_id=customer.pk, product_code="CONSULT", unit_price="-5", valid_from="2026-02-01",
                valid_to="2026-01-01", actor=clerk,
            )  # fmt: skip
        assert [e.field for e in refused.value.errors] == ["unit_price", "valid_to"]
        with pytest.raises(NotFound) as missing:
            services.set_customer_price(
                customer_id=customer.pk + 99,
                product_code="CONSULT",
                unit_price="1",
                valid_from=SINCE,
                actor=clerk,
            )
        assert missing.value.field == "customer_id"


def test_end_customer_price_sets_its_last_day(supervisor: User, clerk: User, unchanged) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk)
    rate = services.set_customer_price(
        customer_id=customer.pk, product_code="CONSULT", unit_price="120", valid_from=SINCE, actor=clerk
    )
    services.end_customer_price(
        customer_id=customer.pk, customer_price_id=rate.pk, valid_to="2026-06-30", actor=clerk
    )
    rate.refresh_from_db()
    assert rate.valid_to == date(2026, 6, 30)
    event = last_event()
    assert event.before is not None and event.after is not None
    assert (event.action, event.before["valid_to"], event.after["valid_to"]) == (
        "catalog.customer_price_ended",
        None,
        "2026-06-30",
    )
    with unchanged(), pytest.raises(InvalidInput) as refused:
        services.end_customer_price(
            customer_id=customer.pk, customer_price_id=rate.pk, valid_to="2025-12-31", actor=clerk
        )
    assert refused.value.message == "valid_to 2025-12-31 is before valid_from 2026-01-01"
    other = create_customer(clerk)
    with unchanged(), pytest.raises(NotFound):  # another customer's rate is not reachable through this one
        services.end_customer_price(
            customer_id=other.pk, customer_price_id=rate.pk, valid_to=SINCE, actor=clerk
        )


def test_assign_price_list_in_the_customers_currency_and_back(supervisor: User, clerk: User) -> None:
    standard_catalog(supervisor)
    services.create_price_list(code="VIP-EUR", name="VIP", currency="EUR", valid_from=SINCE, actor=supervisor)
    customer = create_customer(clerk)
    services.assign_price_list(customer_id=customer.pk, price_list_code="vip-eur", actor=clerk)
    assert CustomerPriceList.objects.get(customer=customer).price_list.code == "VIP-EUR"
    assert (last_event().action, last_event().before, last_event().after) == (
        "catalog.price_list_assigned",
        {"price_list": None},
        {"price_list": "VIP-EUR"},
    )
    services.assign_price_list(customer_id=customer.pk, price_list_code=None, actor=clerk)
    assert not CustomerPriceList.objects.exists()
    assert last_event().after == {"price_list": None}


def test_a_price_list_in_another_currency_is_refused(supervisor: User, clerk: User, unchanged) -> None:
    standard_catalog(supervisor)
    services.create_price_list(code="STD-USD", name="USD", currency="USD", valid_from=SINCE, actor=supervisor)
    customer = create_customer(clerk, account_number="C-77")
    with unchanged(), pytest.raises(CurrencyMismatch) as refused:
        services.assign_price_list(customer_id=customer.pk, price_list_code="STD-USD", actor=clerk)
    assert refused.value.field == "price_list"
    assert refused.value.message == "price list STD-USD is in USD, but C-77 is billed in EUR"


def test_tax_rate_rows_keep_the_rate_as_written(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)
    services.add_tax_rate(tax_code="VAT-RED", country="FR", rate="5.50", valid_from=SINCE, actor=supervisor)
    assert TaxRate.objects.get().rate == Decimal("5.5")
