"""Catalog and billing-entity data for the invoicing tests, built as an operator would set them up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from billops.access.models import User
from billops.catalog.models import PriceList, PriceListItem, Product, TaxCode, TaxRate
from billops.customers.models import Customer
from billops.invoicing.models import BillingEntity, Invoice
from billops.invoicing.services.drafts import create_draft
from billops.invoicing.services.entities import create_billing_entity
from billops.invoicing.services.lines import LineData
from billops.ledger.accounts import REVENUE, control_account
from tests.customers.factories import create_customer

SINCE = date(2020, 1, 1)


def make_entity(**fields: Any) -> BillingEntity:
    values = {
        "code": "MAIN", "legal_name": "Billops Demo GmbH", "address_lines": "Torstraße 1",
        "postal_code": "10119", "city": "Berlin", "country": "DE", "vat_id": "DE136695976",
        "email": "billing@billops.example",
        "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "bank_name": "Commerzbank",
    }  # fmt: skip
    return create_billing_entity(actor=None, **{**values, **fields})


def make_catalog() -> dict[str, Any]:
    """Tax codes with German, French and Californian rates, three products and a default EUR price list."""
    standard = TaxCode.objects.create(code="VAT-STD", name="VAT standard", kind=TaxCode.Kind.STANDARD)
    reduced = TaxCode.objects.create(code="VAT-RED", name="VAT reduced", kind=TaxCode.Kind.REDUCED)
    TaxCode.objects.create(code="VAT-ZERO", name="VAT zero", kind=TaxCode.Kind.ZERO)
    TaxCode.objects.create(
        code="EXEMPT", name="Exempt", kind=TaxCode.Kind.EXEMPT, legal_note="Exempt under § 4 Nr. 21 UStG"
    )
    sales = TaxCode.objects.create(code="US-SALES", name="US sales tax", kind=TaxCode.Kind.SALES_TAX)
    for code, country, rate in ((standard, "DE", "19"), (reduced, "DE", "7"), (standard, "FR", "20")):
        TaxRate.objects.create(tax_code=code, country=country, rate=Decimal(rate), valid_from=SINCE)
    TaxRate.objects.create(tax_code=sales, country="US", region="CA", rate=Decimal("7.25"), valid_from=SINCE)
    TaxRate.objects.create(
        tax_code=sales, country="US", region="CA", locality="94103", rate=Decimal("1.375"), valid_from=SINCE
    )
    revenue = control_account(REVENUE)
    products = {
        code: Product.objects.create(
            code=code, name=name, unit=unit, revenue_account=revenue, tax_code=tax, description=name
        )
        for code, name, unit, tax in (
            ("CONSULT", "Consulting", "hour", standard),
            ("LICENSE", "Software licence", "month", standard),
            ("BOOK", "Handbook", "each", reduced),
        )
    }
    price_list = PriceList.objects.create(
        code="STD-EUR", name="Standard EUR", currency="EUR", valid_from=SINCE, is_default=True
    )
    for code, price in (("CONSULT", "150"), ("LICENSE", "49.90"), ("BOOK", "24.95")):
        PriceListItem.objects.create(price_list=price_list, product=products[code], unit_price=Decimal(price))
    PriceListItem.objects.create(
        price_list=price_list, product=products["CONSULT"], min_quantity=Decimal(10), unit_price=Decimal(135)
    )
    return products


def make_customer(actor: User, **fields: Any) -> Customer:
    return create_customer(actor, **fields)


def draft_for(customer: Customer, actor: User, *lines: LineData, **header: Any) -> Invoice:
    return create_draft(
        customer_id=customer.pk,
        actor=actor,
        lines=lines or (LineData(quantity="2", product_code="CONSULT"),),
        **header,
    )
