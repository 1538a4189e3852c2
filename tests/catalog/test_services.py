"""Catalog writes on tax codes, rates and products: what each service stores, what it audits, and that a
refused action changes nothing. Price lists and customers' rates: test_prices.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.catalog import services
from billops.catalog.errors import CatalogInvalid, NotRevenueAccount, OverlappingRate, UnknownCode
from billops.catalog.models import Product, TaxCode
from billops.core.errors import (
    Conflict,
    Duplicate,
    InvalidAmount,
    InvalidInput,
    PermissionDenied,
)
from tests.catalog.factories import SINCE, standard_catalog

pytestmark = pytest.mark.django_db


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()  # type: ignore[return-value]


# --- tax codes and rates ---------------------------------------------------------------------------


def test_create_tax_code_stores_it_in_capitals_and_audits_it(supervisor: User) -> None:
    code = services.create_tax_code(
        code=" vat-std ", name="VAT standard rate", kind="standard", legal_note="", actor=supervisor
    )
    assert (code.code, code.name, code.kind, code.is_active) == (
        "VAT-STD",
        "VAT standard rate",
        "standard",
        True,
    )
    event = last_event()
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "catalog.tax_code_created",
        supervisor,
        "catalog.taxcode",
        str(code.pk),
    )
    assert event.after == {
        "code": "VAT-STD",
        "name": "VAT standard rate",
        "kind": "standard",
        "legal_note": "",
        "is_active": True,
    }


def test_a_tax_code_is_created_once(supervisor: User, unchanged) -> None:
    services.create_tax_code(code="VAT-STD", name="VAT", kind="standard", actor=supervisor)
    with unchanged(), pytest.raises(Duplicate) as refused:
        services.create_tax_code(code="vat-std", name="Again", kind="standard", actor=supervisor)
    assert (refused.value.field, refused.value.message) == ("code", "tax code VAT-STD already exists")


def test_several_bad_fields_are_reported_together(supervisor: User, unchanged) -> None:
    with unchanged(), pytest.raises(CatalogInvalid) as refused:
        services.create_tax_code(code="VAT STD", name="", kind="luxury", actor=supervisor)
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("code", "code 'VAT STD' may hold only letters, digits, '.', '_' and '-', starting and ending with a "
         "letter or digit"),
        ("name", "name is required"),
        ("kind", "kind 'luxury' is not one of standard, reduced, zero, exempt, sales_tax"),
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["clerk", "collector", "auditor"])
def test_only_a_supervisor_manages_tax_codes(make_user, role: str, unchanged) -> None:
    actor = make_user(role)
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        services.create_tax_code(code="VAT-STD", name="VAT", kind="standard", actor=actor)
    assert refused.value.message == f"the {role} role may not do catalog.manage"


def test_add_tax_rate_stores_the_rate_and_audits_it(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)
    rate = services.add_tax_rate(
        tax_code="vat-std", country="de", rate="19", valid_from="2026-01-01", actor=supervisor
    )
    assert (rate.tax_code.code, rate.country, rate.region, rate.locality) == ("VAT-STD", "DE", "", "")
    assert (rate.rate, rate.valid_from, rate.valid_to) == (Decimal("19"), date(2026, 1, 1), None)
    event = last_event()
    assert (event.action, event.target_type, event.before) == (
        "catalog.tax_rate_added",
        "catalog.taxrate",
        None,
    )
    assert event.after == {
        "tax_code": "VAT-STD",
        "country": "DE",
        "region": "",
        "locality": "",
        "rate": "19",
        "valid_from": "2026-01-01",
        "valid_to": None,
    }


def test_a_rate_change_closes_the_open_ended_rate_the_day_before_and_says_so(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)
    old = services.add_tax_rate(
        tax_code="VAT-STD", country="DE", rate="19", valid_from=SINCE, actor=supervisor
    )
    new = services.add_tax_rate(
        tax_code="VAT-STD", country="DE", rate="20", valid_from=date(2026, 7, 1), actor=supervisor
    )
    old.refresh_from_db()
    assert (old.valid_from, old.valid_to) == (date(2026, 1, 1), date(2026, 6, 30))
    assert (new.valid_from, new.valid_to) == (date(2026, 7, 1), None)
    event = last_event()
    assert event.target_id == str(new.pk)
    assert event.before == {"closed_rate": {"id": old.pk, "rate": "19.0000", "valid_to": None}}
    assert event.after is not None
    assert event.after["closed_rate"] == {"id": old.pk, "rate": "19.0000", "valid_to": "2026-06-30"}
    assert event.after["rate"] == "20"


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "clash"),
    [
        ("2026-01-01", None, "19% from 2026-01-01 to 2026-12-31"),  # the same start
        ("2026-06-01", "2026-06-30", "19% from 2026-01-01 to 2026-12-31"),  # inside a closed rate
        ("2025-07-01", None, "19% from 2026-01-01 to 2026-12-31"),  # open-ended over a later rate
    ],
)
def test_overlapping_rates_are_refused(supervisor: User, unchanged, valid_from, valid_to, clash) -> None:
    services.seed_tax_codes(actor=supervisor)
    services.add_tax_rate(
        tax_code="VAT-STD", country="DE", rate="19", valid_from=SINCE, valid_to="2026-12-31", actor=supervisor
    )
    with unchanged(), pytest.raises(OverlappingRate) as refused:
        services.add_tax_rate(
            tax_code="VAT-STD",
            country="DE",
            rate="16",
            valid_from=valid_from,
            valid_to=valid_to,
            actor=supervisor,
        )
    assert refused.value.field == "valid_from"
    assert refused.value.http_status == 409
    assert f"overlaps the rate {clash}" in refused.value.message


@pytest.mark.parametrize(
    ("changes", "error", "field", "message"),
    [
        ({"rate": "100"}, InvalidAmount, "rate", "rate must be at least 0 and below 100 (percent), got 100"),
        ({"rate": "-1"}, InvalidAmount, "rate", "rate must be at least 0 and below 100 (percent), got -1"),
        ({"rate": "19.12345"}, InvalidAmount, "rate", "rate 19.12345 has more than 4 decimal places"),
        ({"rate": "19,5"}, InvalidAmount, "rate", "rate '19,5' is not a number like 1234.50"),
        ({"rate": 19.5}, InvalidAmount, "rate", "rate must be given as a decimal string"),
        ({"valid_to": "2025-12-31"}, InvalidInput, "valid_to", "valid_to 2025-12-31 is before valid_from"),
        ({"valid_from": "01.01.2026"}, InvalidInput, "valid_from", "valid_from '01.01.2026' is not a date"),
        ({"country": "XX"}, InvalidInput, "country", "country 'XX' is not an ISO 3166 country code like DE"),
        ({"region": "CA"}, InvalidInput, "region", "a VAT rate applies to a whole country"),
        ({"tax_code": "VAT-EXEMPT"}, InvalidInput, "tax_code", "a tax code of kind exempt has no rates"),
        ({"tax_code": "US-SALES"}, CatalogInvalid, "country", "2 fields need correcting"),
        ({"tax_code": "GST"}, UnknownCode, "tax_code", "there is no tax code 'GST'"),
    ],
)  # fmt: skip
def test_bad_rates_are_refused_with_the_field(
    supervisor: User, unchanged, changes, error, field, message
) -> None:
    services.seed_tax_codes(actor=supervisor)
    values = {"tax_code": "VAT-STD", "country": "DE", "rate": "19", "valid_from": "2026-01-01", **changes}
    with unchanged(), pytest.raises(error) as refused:
        services.add_tax_rate(**values, actor=supervisor)
    assert refused.value.field == field
    assert refused.value.message.startswith(message)


def test_a_us_rate_sits_in_a_state_and_a_zip_code_needs_the_state(supervisor: User, unchanged) -> None:
    services.seed_tax_codes(actor=supervisor)
    rate = services.add_tax_rate(
        tax_code="US-SALES", country="US", region="ca", locality="94103", rate="1.375", valid_from=SINCE,
        actor=supervisor,
    )  # fmt: skip
    assert (rate.region, rate.locality, rate.rate) == ("CA", "94103", Decimal("1.375"))
    with unchanged(), pytest.raises(CatalogInvalid) as refused:
        services.add_tax_rate(
            tax_code="US-SALES",
            country="US",
            locality="10001",
            rate="4.5",
            valid_from=SINCE,
            actor=supervisor,
        )
    assert [e.field for e in refused.value.errors] == ["locality", "region"]


def test_seed_tax_codes_creates_the_missing_codes_once(supervisor: User) -> None:
    services.create_tax_code(code="VAT-STD", name="Our own name", kind="standard", actor=supervisor)
    created = services.seed_tax_codes(actor=supervisor)
    assert [code.code for code in created] == ["VAT-RED", "VAT-ZERO", "VAT-EXEMPT", "US-SALES"]
    assert TaxCode.objects.get(code="VAT-STD").name == "Our own name"
    assert TaxCode.objects.get(code="VAT-EXEMPT").legal_note == "Exempt from VAT"
    events = AuditEvent.objects.count()
    assert services.seed_tax_codes(actor=supervisor) == []
    assert AuditEvent.objects.count() == events


# --- products --------------------------------------------------------------------------------------


def test_create_product_links_its_revenue_account_and_tax_code(supervisor: User) -> None:
    services.seed_tax_codes(actor=supervisor)
    product = services.create_product(
        code="consult-hr", name="Consulting", unit="hour", revenue_account="4000", tax_code="VAT-STD",
        description="Consulting by the hour", actor=supervisor,
    )  # fmt: skip
    product.refresh_from_db()
    assert (product.code, product.revenue_account.code, product.tax_code.code, product.unit) == (
        "CONSULT-HR",
        "4000",
        "VAT-STD",
        "hour",
    )
    event = last_event()
    assert (event.action, event.target_type) == ("catalog.product_created", "catalog.product")
    assert event.after == {
        "code": "CONSULT-HR",
        "name": "Consulting",
        "description": "Consulting by the hour",
        "unit": "hour",
        "revenue_account": "4000",
        "tax_code": "VAT-STD",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("changes", "error", "field", "message"),
    [
        ({"tax_code": "GST"}, UnknownCode, "tax_code", "there is no tax code 'GST'"),
        ({"revenue_account": "4711"}, UnknownCode, "revenue_account", "there is no account with code '4711'"),
        (
            {"revenue_account": "1000"},
            NotRevenueAccount,
            "revenue_account",
            "account 1000 Bank is a asset account; a product's revenue posts to a revenue account",
        ),
        ({"code": "CONSULT HR"}, InvalidInput, "code", "code 'CONSULT HR' may hold only letters"),
        ({"name": "  "}, InvalidInput, "name", "name is required"),
    ],
)
def test_bad_products_are_refused_with_the_field(
    supervisor: User, unchanged, changes, error, field, message
) -> None:
    services.seed_tax_codes(actor=supervisor)
    values = {"code": "CONSULT", "name": "Consulting", "revenue_account": "4000", "tax_code": "VAT-STD"}
    with unchanged(), pytest.raises(error) as refused:
        services.create_product(**{**values, **changes}, actor=supervisor)
    assert refused.value.field == field
    assert refused.value.message.startswith(message)


def test_a_charge_code_is_used_once(supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    with unchanged(), pytest.raises(Duplicate) as refused:
        services.create_product(
            code="consult", name="Again", revenue_account="4000", tax_code="VAT-STD", actor=supervisor
        )
    assert refused.value.message == "a product with code CONSULT already exists"


@pytest.mark.parametrize("role", ["clerk", "auditor"])
def test_a_clerk_or_auditor_may_not_manage_products(
    supervisor: User, make_user, role: str, unchanged
) -> None:
    standard_catalog(supervisor)
    actor = make_user(role)
    with unchanged():
        with pytest.raises(PermissionDenied):
            services.create_product(
                code="NEW", name="New", revenue_account="4000", tax_code="VAT-STD", actor=actor
            )
        with pytest.raises(PermissionDenied):
            services.change_product(product_code="CONSULT", changes={"name": "Cheap"}, actor=actor)
        with pytest.raises(PermissionDenied):
            services.deactivate_product(product_code="CONSULT", actor=actor)
        with pytest.raises(PermissionDenied):
            services.set_list_price(
                price_list_code="STD-EUR", product_code="BOOK", unit_price="1", actor=actor
            )


def test_change_product_audits_only_what_changed(supervisor: User) -> None:
    standard_catalog(supervisor)
    services.change_product(
        product_code="consult",
        changes={"name": "Consulting", "tax_code": "VAT-RED", "unit": "day"},
        actor=supervisor,
    )
    product = Product.objects.get(code="CONSULT")
    assert (product.tax_code.code, product.unit) == ("VAT-RED", "day")
    event = last_event()
    assert event.action == "catalog.product_changed"
    assert (event.before, event.after) == (
        {"unit": "hour", "tax_code": "VAT-STD"},
        {"unit": "day", "tax_code": "VAT-RED"},
    )
    events = AuditEvent.objects.count()
    services.change_product(product_code="CONSULT", changes={"unit": "day"}, actor=supervisor)
    assert AuditEvent.objects.count() == events  # nothing changed, nothing recorded


def test_the_charge_code_and_active_flag_are_not_changed_by_change_product(
    supervisor: User, unchanged
) -> None:
    standard_catalog(supervisor)
    with unchanged(), pytest.raises(CatalogInvalid) as refused:
        services.change_product(
            product_code="CONSULT", changes={"code": "X", "is_active": False}, actor=supervisor
        )
    assert [e.field for e in refused.value.errors] == ["code", "is_active"]


def test_deactivate_product_once(supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    product = services.deactivate_product(product_code="BOOK", actor=supervisor)
    assert product.is_active is False
    assert (last_event().action, last_event().before, last_event().after) == (
        "catalog.product_deactivated",
        {"is_active": True},
        {"is_active": False},
    )
    with unchanged(), pytest.raises(Conflict):
        services.deactivate_product(product_code="BOOK", actor=supervisor)
    with unchanged(), pytest.raises(InvalidInput) as refused:
        services.set_list_price(
            price_list_code="STD-EUR", product_code="BOOK", unit_price="20", actor=supervisor
        )
    assert refused.value.message == "product BOOK is no longer sold"
