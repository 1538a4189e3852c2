"""The catalog's staff pages: every role reads them, forms show to the roles that may use them, errors
come back at their field, and a refused action changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billops.access.models import User
from billops.catalog import services
from billops.catalog.models import CustomerPrice, CustomerPriceList, PriceListItem, Product, TaxRate
from tests.catalog.factories import SINCE, standard_catalog
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

HEADER = b"tax_code,country,region,locality,rate,valid_from,valid_to\n"


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_login(client: Client) -> None:
    response = client.get(reverse("catalog:products"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_the_navigation_leads_to_the_catalog(clerk: User) -> None:
    html = logged_in(clerk).get(reverse("customers:list")).content.decode()
    assert f'<a href="{reverse("catalog:products")}">Catalog</a>' in html


@pytest.mark.parametrize("role", ["clerk", "collector", "auditor", "supervisor"])
def test_every_role_reads_every_page(supervisor: User, make_user, role: str) -> None:
    standard_catalog(supervisor)
    customer = create_customer(supervisor)
    client = logged_in(supervisor if role == "supervisor" else make_user(role))
    for url in (
        reverse("catalog:products"),
        reverse("catalog:product", args=["CONSULT"]),
        reverse("catalog:tax_codes"),
        reverse("catalog:price_lists"),
        reverse("catalog:price_list", args=["STD-EUR"]),
        reverse("catalog:customer_prices", args=[customer.pk]),
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(reverse("catalog:product", args=["NOPE"])).status_code == 404


def test_product_list_searches_and_offers_new_products_to_the_supervisor(
    supervisor: User, clerk: User
) -> None:
    standard_catalog(supervisor)
    page = logged_in(clerk).get(reverse("catalog:products"), {"search": "hand"}).content.decode()
    assert f'<a href="{reverse("catalog:product", args=["BOOK"])}">BOOK</a>' in page
    assert "Consulting" not in page and "New product" not in page
    assert "New product" in logged_in(supervisor).get(reverse("catalog:products")).content.decode()
    services.deactivate_product(product_code="BOOK", actor=supervisor)
    sold = logged_in(clerk).get(reverse("catalog:products"), {"active": "1"}).content.decode()
    assert "CONSULT" in sold and ">BOOK<" not in sold


def test_product_detail_shows_list_prices_customer_rates_and_history(supervisor: User, clerk: User) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk, account_number="C-9")
    services.set_customer_price(
        customer_id=customer.pk, product_code="CONSULT", unit_price="120.5", valid_from=SINCE,
        contract_reference="K-12", actor=clerk,
    )  # fmt: skip
    html = logged_in(clerk).get(reverse("catalog:product", args=["CONSULT"])).content.decode()
    assert '<td class="num">150.00</td>' in html and '<td class="num">135.00</td>' in html
    assert '<td class="num">120.50 EUR</td>' in html and "K-12" in html and ">clerk<" in html
    assert "catalog.product_created" in html


def test_a_supervisor_creates_a_product_and_errors_come_back_at_their_field(
    supervisor: User, unchanged
) -> None:
    standard_catalog(supervisor)
    client = logged_in(supervisor)
    form = {"code": "SEAT", "name": "Seat", "unit": "month", "revenue_account": "1000", "tax_code": "VAT-STD"}
    with unchanged():
        refused = client.post(reverse("catalog:product_create"), form)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert (
        '<ul class="errorlist" id="revenue_account-errors"><li>account 1000 Bank is a asset account' in html
    )
    assert 'value="SEAT"' in html  # what was typed stays
    created = client.post(reverse("catalog:product_create"), {**form, "revenue_account": "4000"})
    assert created.status_code == 302
    assert created["Location"] == reverse("catalog:product", args=["SEAT"])
    assert Product.objects.get(code="SEAT").revenue_account.code == "4000"


def test_a_clerk_may_not_create_or_edit_products(supervisor: User, clerk: User, unchanged) -> None:
    standard_catalog(supervisor)
    client = logged_in(clerk)
    form = {"code": "SEAT", "name": "Seat", "unit": "month", "revenue_account": "4000", "tax_code": "VAT-STD"}
    with unchanged():
        refused = client.post(reverse("catalog:product_create"), form)
        edit = client.post(reverse("catalog:product_edit", args=["CONSULT"]), {**form, "name": "Cheap"})
    assert refused.status_code == edit.status_code == 403
    assert "the clerk role may not do catalog.manage" in refused.content.decode()


def test_edit_keeps_the_charge_code_and_saves_the_changes(supervisor: User) -> None:
    standard_catalog(supervisor)
    client = logged_in(supervisor)
    form = client.get(reverse("catalog:product_edit", args=["CONSULT"])).context["form"]
    assert "code" not in form.fields
    response = client.post(
        reverse("catalog:product_edit", args=["CONSULT"]),
        {
            "name": "Consulting",
            "unit": "day",
            "revenue_account": "4000",
            "tax_code": "VAT-STD",
            "description": "",
        },
    )
    assert response.status_code == 302
    assert Product.objects.get(code="CONSULT").unit == "day"


def test_tax_page_shows_rates_per_country_and_imports_a_table(supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    client = logged_in(supervisor)
    page = client.get(reverse("catalog:tax_codes"), {"on": "2026-03-01"}).content.decode()
    assert (
        '<span title="from 2026-01-01">19 %</span>' in page
        and '<span title="from 2026-01-01">7 %</span>' in page
    )
    bad = SimpleUploadedFile(
        "rates.csv", HEADER + b"VAT-STD,FR,,,19;5,2026-01-01,\nVAT-STD,IT,,,22,2026-13-01,\n"
    )
    with unchanged():
        refused = client.post(reverse("catalog:tax_rates_import"), {"file": bad})
    html = refused.content.decode()
    assert "Nothing was imported from rates.csv: 2 problems to correct." in html
    assert '<td class="num">2</td><td><code>rate</code></td>' in html
    assert '<td class="num">3</td><td><code>valid_from</code></td>' in html
    good = SimpleUploadedFile("rates.csv", HEADER + b"VAT-STD,FR,,,20,2026-01-01,\n")
    imported = client.post(reverse("catalog:tax_rates_import"), {"file": good}, follow=True)
    assert "Imported 1 rates from rates.csv." in imported.content.decode()
    assert TaxRate.objects.filter(country="FR").count() == 1


def test_adding_a_rate_from_the_page(supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    client = logged_in(supervisor)
    form = {"tax_code": "VAT-STD", "country": "DE", "rate": "100", "valid_from": "2026-07-01"}
    with unchanged():
        refused = client.post(reverse("catalog:tax_rate_add"), form)
    assert "rate must be at least 0 and below 100 (percent), got 100" in refused.content.decode()
    added = client.post(reverse("catalog:tax_rate_add"), {**form, "rate": "21"})
    assert added.status_code == 302
    assert TaxRate.objects.filter(country="DE", tax_code__code="VAT-STD").count() == 2


def test_the_auditor_sees_no_forms_and_is_refused_on_post(supervisor: User, auditor: User, unchanged) -> None:
    standard_catalog(supervisor)
    client = logged_in(auditor)
    assert "Import a rate table" not in client.get(reverse("catalog:tax_codes")).content.decode()
    assert "Set a price" not in client.get(reverse("catalog:price_list", args=["STD-EUR"])).content.decode()
    with unchanged():
        refused = client.post(
            reverse("catalog:tax_code_create"), {"code": "GST", "name": "GST", "kind": "standard"}
        )
        price = client.post(
            reverse("catalog:list_price_set", args=["STD-EUR"]), {"product_code": "BOOK", "unit_price": "1"}
        )
    assert refused.status_code == price.status_code == 403


def test_setting_a_list_price_from_the_page(supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    client = logged_in(supervisor)
    url = reverse("catalog:list_price_set", args=["STD-EUR"])
    with unchanged():
        refused = client.post(url, {"product_code": "BOOK", "min_quantity": "0", "unit_price": "-1"})
    assert '<ul class="errorlist" id="unit_price-errors"><li>unit price must not be negative, got -1' in (
        refused.content.decode()
    )
    assert (
        client.post(url, {"product_code": "BOOK", "min_quantity": "20", "unit_price": "22"}).status_code
        == 302
    )
    assert PriceListItem.objects.filter(product__code="BOOK").count() == 2
    removed = client.post(
        reverse("catalog:list_price_remove", args=["STD-EUR"]), {"product_code": "BOOK", "min_quantity": "20"}
    )
    assert removed.status_code == 302
    assert PriceListItem.objects.filter(product__code="BOOK").count() == 1


def test_a_clerk_sets_a_customers_rate_and_list_from_its_page(
    supervisor: User, clerk: User, unchanged
) -> None:
    standard_catalog(supervisor)
    services.create_price_list(code="STD-USD", name="USD", currency="USD", valid_from=SINCE, actor=supervisor)
    customer = create_customer(clerk)
    client = logged_in(clerk)
    set_url = reverse("catalog:customer_price_set", args=[customer.pk])
    form = {"product_code": "CONSULT", "unit_price": "120", "min_quantity": "0", "valid_from": "2026-01-01"}
    assert client.post(set_url, {**form, "contract_reference": "K-1"}).status_code == 302
    rate = CustomerPrice.objects.get()
    assert (rate.created_by, rate.unit_price, rate.contract_reference) == (clerk, 120, "K-1")
    page = client.get(reverse("catalog:customer_prices", args=[customer.pk])).content.decode()
    assert "120.00 EUR" in page and "catalog.customer_price_set" in page
    with unchanged():
        wrong = client.post(
            reverse("catalog:price_list_assign", args=[customer.pk]), {"price_list": "STD-USD"}
        )
    assert "price list STD-USD is in USD" in wrong.content.decode()
    assert (
        client.post(
            reverse("catalog:price_list_assign", args=[customer.pk]), {"price_list": "STD-EUR"}
        ).status_code
        == 302
    )
    assert CustomerPriceList.objects.get().price_list.code == "STD-EUR"
    end_url = reverse("catalog:customer_price_end", args=[customer.pk, rate.pk])
    with unchanged():
        too_early = client.post(end_url, {"valid_to": "2025-01-01"})
    assert "valid_to 2025-01-01 is before valid_from 2026-01-01" in too_early.content.decode()
    assert client.post(end_url, {"valid_to": "2026-06-30"}).status_code == 302
    rate.refresh_from_db()
    assert str(rate.valid_to) == "2026-06-30"


def test_a_collector_may_not_set_customer_rates(
    supervisor: User, clerk: User, collector: User, unchanged
) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk)
    client = logged_in(collector)
    assert (
        "Set a rate"
        not in client.get(reverse("catalog:customer_prices", args=[customer.pk])).content.decode()
    )
    with unchanged():
        refused = client.post(
            reverse("catalog:customer_price_set", args=[customer.pk]),
            {"product_code": "CONSULT", "unit_price": "1", "valid_from": "2026-01-01"},
        )
    assert refused.status_code == 403
    assert "the collector role may not do catalog.set_customer_price" in refused.content.decode()
