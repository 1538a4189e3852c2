"""The catalog API over HTTP with a real bearer token: status codes, bodies, nothing written when a
request is refused, and each operation's reply checked against the OpenAPI schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from billops.access.models import User
from billops.access.services import issue_api_token
from billops.audit.models import AuditEvent
from billops.catalog.models import CustomerPrice, PriceListItem, Product, TaxRate
from billops.wsgi import application
from tests.catalog.factories import standard_catalog
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

PRODUCT = {
    "code": "SAAS-SEAT",
    "name": "Seat",
    "revenue_account": "4000",
    "tax_code": "VAT-STD",
    "unit": "month",
}


def put(api: Any, path: str, body: Any) -> Any:
    return api.client.put(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def delete(api: Any, path: str) -> Any:
    return api.client.delete(f"/api/v1{path}")


def test_create_product_returns_201_with_its_codes(api_as, supervisor: User) -> None:
    standard_catalog(supervisor)
    response = api_as(supervisor).post("/catalog/products", PRODUCT)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {
        k: body[k] for k in ("code", "revenue_account", "tax_code", "unit", "is_active", "list_prices")
    } == {
        "code": "SAAS-SEAT",
        "revenue_account": "4000",
        "tax_code": "VAT-STD",
        "unit": "month",
        "is_active": True,
        "list_prices": [],
    }
    assert (
        AuditEvent.objects.filter(
            action="catalog.product_created", target_id=str(Product.objects.get(code="SAAS-SEAT").pk)
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"tax_code": "GST"}, 400, "unknown_code", "tax_code"),
        ({"revenue_account": "1000"}, 400, "not_revenue_account", "revenue_account"),
        ({"code": "CONSULT"}, 409, "duplicate", "code"),
        ({"colour": "red"}, 422, "invalid", "colour"),
    ],
)
def test_bad_products_are_refused_with_code_and_field(
    api_as, supervisor: User, unchanged, change, status, code, field
) -> None:
    standard_catalog(supervisor)
    api = api_as(supervisor)
    with unchanged():
        response = api.post("/catalog/products", {**PRODUCT, **change})
    assert response.status_code == status
    assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_a_clerk_gets_403_for_products_and_the_auditor_reads(
    api_as, supervisor, clerk, auditor, unchanged
) -> None:
    standard_catalog(supervisor)
    clerk_api, auditor_api = api_as(clerk), api_as(auditor)
    with unchanged():
        refused = clerk_api.post("/catalog/products", PRODUCT)
        assert auditor_api.patch("/catalog/products/CONSULT", {"name": "x"}).status_code == 403
    assert refused.status_code == 403
    assert refused.json() == {
        "code": "permission_denied",
        "message": "the clerk role may not do catalog.manage",
        "field": None,
    }
    listed = auditor_api.get("/catalog/products", search="consult")
    assert listed.status_code == 200
    assert [p["code"] for p in listed.json()["items"]] == ["CONSULT"]


def test_product_detail_shows_its_prices_and_patch_changes_only_what_is_sent(
    api_as, supervisor: User
) -> None:
    standard_catalog(supervisor)
    api = api_as(supervisor)
    detail = api.get("/catalog/products/consult").json()
    assert detail["list_prices"] == [
        {"price_list": "STD-EUR", "currency": "EUR", "min_quantity": "0", "unit_price": "150.00"},
        {"price_list": "STD-EUR", "currency": "EUR", "min_quantity": "10", "unit_price": "135.00"},
    ]
    changed = api.patch("/catalog/products/CONSULT", {"unit": "day"})
    assert changed.status_code == 200
    assert (changed.json()["unit"], changed.json()["name"]) == ("day", "Consulting")
    assert api.post("/catalog/products/BOOK/deactivate").json()["is_active"] is False
    assert api.get("/catalog/products", active=False).json()["count"] == 1
    assert api.get("/catalog/products/NOPE").status_code == 404


def test_tax_codes_with_their_current_rates_and_a_rate_change(api_as, supervisor: User) -> None:
    standard_catalog(supervisor)
    api = api_as(supervisor)
    added = api.post(
        "/catalog/tax-codes/VAT-STD/rates", {"country": "DE", "rate": "21", "valid_from": "2026-07-01"}
    )
    assert added.status_code == 201, added.json()
    assert {k: added.json()[k] for k in ("tax_code", "country", "rate", "valid_to")} == {
        "tax_code": "VAT-STD",
        "country": "DE",
        "rate": "21",
        "valid_to": None,
    }
    codes = {c["code"]: c for c in api.get("/catalog/tax-codes", on="2026-06-30").json()["items"]}
    assert [(r["country"], r["rate"], r["valid_to"]) for r in codes["VAT-STD"]["current_rates"]] == [
        ("DE", "19", "2026-06-30")
    ]
    rates = api.get("/catalog/tax-codes/VAT-STD/rates", country="de").json()["items"]
    assert [(r["rate"], r["valid_from"]) for r in rates] == [("19", "2026-01-01"), ("21", "2026-07-01")]
    assert api.get("/catalog/tax-codes/NOPE/rates").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"rate": "100"}, 400, "invalid_amount", "rate"),
        ({"rate": 19.5}, 422, "invalid", "rate"),
        ({"valid_from": "2026-01-01"}, 409, "overlapping_rate", "valid_from"),
        ({"valid_from": "1767225600"}, 422, "invalid", "valid_from"),
    ],
)
def test_bad_rates_are_refused(api_as, supervisor: User, unchanged, body, status, code, field) -> None:
    standard_catalog(supervisor)
    api = api_as(supervisor)
    with unchanged():
        response = api.post(
            "/catalog/tax-codes/VAT-STD/rates",
            {"country": "DE", "rate": "20", "valid_from": "2026-02-01", **body},
        )
    assert response.status_code == status, response.json()
    assert (response.json()["code"], response.json()["field"]) == (code, field)


def test_import_all_or_nothing_over_http(api_as, supervisor: User, unchanged) -> None:
    standard_catalog(supervisor)
    api = api_as(supervisor)
    bad = SimpleUploadedFile(
        "r.csv", b"tax_code,country,region,locality,rate,valid_from,valid_to\nVAT-STD,FR,,,x,,\n"
    )
    with unchanged():
        refused = api.client.post("/api/v1/catalog/tax-rates/import", {"file": bad})
    assert refused.status_code == 422
    assert [(r["row"], r["column"]) for r in refused.json()["rejects"]] == [(2, "rate"), (2, "valid_from")]
    good = SimpleUploadedFile(
        "r.csv", b"tax_code,country,region,locality,rate,valid_from,valid_to\nVAT-STD,FR,,,20,2026-01-01,\n"
    )
    imported = api.client.post("/api/v1/catalog/tax-rates/import", {"file": good})
    assert imported.status_code == 200
    assert {k: imported.json()[k] for k in ("rows", "created", "unchanged", "closed")} == {
        "rows": 1,
        "created": 1,
        "unchanged": 0,
        "closed": 0,
    }
    assert TaxRate.objects.filter(country="FR").count() == 1


def test_price_list_items_put_and_delete(api_as, supervisor: User) -> None:
    standard_catalog(supervisor)
    api = api_as(supervisor)
    set_price = put(
        api,
        "/catalog/price-lists/STD-EUR/items",
        {"product_code": "BOOK", "unit_price": "19.99", "min_quantity": "50"},
    )
    assert set_price.status_code == 200, set_price.json()
    assert set_price.json() == {
        "price_list": "STD-EUR",
        "currency": "EUR",
        "min_quantity": "50",
        "unit_price": "19.99",
    }
    detail = api.get("/catalog/price-lists/std-eur").json()
    assert [(i["product_code"], i["min_quantity"], i["unit_price"]) for i in detail["items"]] == [
        ("BOOK", "0", "24.95"),
        ("BOOK", "50", "19.99"),
        ("CONSULT", "0", "150.00"),
        ("CONSULT", "10", "135.00"),
    ]
    removed = delete(api, "/catalog/price-lists/STD-EUR/items/BOOK?min_quantity=50")
    assert removed.status_code == 200
    assert len(removed.json()["items"]) == 3
    assert delete(api, "/catalog/price-lists/STD-EUR/items/BOOK?min_quantity=50").status_code == 404
    assert PriceListItem.objects.count() == 3


def test_customer_rates_assigned_list_and_quote(api_as, supervisor: User, clerk: User) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk, vat_id="FR40303265045", country="FR")
    api = api_as(clerk)
    path = f"/catalog/customers/{customer.pk}"
    created = api.post(
        f"{path}/prices",
        {
            "product_code": "CONSULT",
            "unit_price": "120",
            "valid_from": "2026-01-01",
            "contract_reference": "K-12",
        },
    )
    assert created.status_code == 201, created.json()
    assert {k: created.json()[k] for k in ("product_code", "currency", "unit_price", "created_by")} == {
        "product_code": "CONSULT",
        "currency": "EUR",
        "unit_price": "120.00",
        "created_by": "clerk",
    }
    assert CustomerPrice.objects.get().created_by == clerk
    quote = api.get(
        "/catalog/quote", customer_id=customer.pk, product_code="CONSULT", quantity="2", on="2026-03-01",
        seller_country="DE", seller_vat_id="DE136695976",
    )  # fmt: skip
    assert quote.status_code == 200, quote.json()
    assert {
        k: quote.json()[k] for k in ("unit_price", "price_source", "tax_rate", "tax_treatment", "currency")
    } == {
        "unit_price": "120.00",
        "price_source": "customer rate (K-12)",
        "tax_rate": "0",
        "tax_treatment": "reverse_charge",
        "currency": "EUR",
    }
    ended = api.post(f"{path}/prices/{created.json()['id']}/end", {"valid_to": "2026-02-28"})
    assert ended.json()["valid_to"] == "2026-02-28"
    after = api.get(
        "/catalog/quote", customer_id=customer.pk, product_code="CONSULT", quantity="12", on="2026-03-01",
        seller_country="DE", seller_vat_id="DE136695976",
    )  # fmt: skip
    assert (after.json()["unit_price"], after.json()["price_source"]) == (
        "135.00",
        "price list STD-EUR from 10",
    )
    assert api.get(f"{path}/prices", on="2026-03-01").json()["count"] == 0
    usd = api_as(supervisor).post(
        "/catalog/price-lists",
        {"code": "STD-USD", "name": "USD", "currency": "USD", "valid_from": "2026-01-01"},
    )
    assert usd.status_code == 201
    refused = api.post(f"{path}/price-list", {"price_list": "STD-USD"})
    assert (refused.status_code, refused.json()["code"]) == (400, "currency_mismatch")
    assert api.post(f"{path}/price-list", {"price_list": "STD-EUR"}).json() == {
        "customer_id": customer.pk,
        "price_list": "STD-EUR",
    }


def test_a_quote_without_a_rate_names_what_is_missing(api_as, supervisor: User, clerk: User) -> None:
    standard_catalog(supervisor)
    customer = create_customer(clerk)
    response = api_as(clerk).get(
        "/catalog/quote", customer_id=customer.pk, product_code="CONSULT", quantity="1", on="2026-03-01",
        seller_country="AT",
    )  # fmt: skip
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "no rate for tax code VAT-STD in AT on 2026-03-01",
        "field": "tax_code",
    }


# --- every catalog operation once, its reply validated against the OpenAPI schema -------------------

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def _keep_the_test_connection() -> Iterator[None]:
    """As in tests/test_api_schema.py: schemathesis calls the WSGI app, whose request signals would close
    the test's database connection."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_each_catalog_operation_replies_as_its_schema_says(
    supervisor: User, clerk: User, _keep_the_test_connection
) -> None:
    _, secret = issue_api_token(user=supervisor, name="walk", actor=None)
    headers = {"Authorization": f"Bearer {secret}"}

    def call(status: int, operation: str, path_parameters: Any = None, **data: Any) -> Any:
        method, path = operation.split(" ")
        case = schema[f"/api/v1/catalog{path}"][method].Case(path_parameters=path_parameters, **data)
        response = case.call_and_validate(headers=headers)
        assert response.status_code == status, response.text
        return response.json()

    customer = {"customer_id": create_customer(clerk).pk}
    vat = {"code": "VAT-STD"}
    call(201, "POST /tax-codes", body={"code": "VAT-STD", "name": "VAT", "kind": "standard"})
    call(
        201,
        "POST /tax-codes/{code}/rates",
        vat,
        body={"country": "DE", "rate": "19", "valid_from": "2026-01-01"},
    )
    call(200, "GET /tax-codes", query={"on": "2026-03-01"})
    call(200, "GET /tax-codes/{code}/rates", vat, query={"country": "DE"})
    table = b"tax_code,country,region,locality,rate,valid_from,valid_to\nVAT-STD,FR,,,20,2026-01-01,\n"
    call(200, "POST /tax-rates/import", body={"file": table}, media_type="multipart/form-data")
    call(201, "POST /products", body=PRODUCT)
    seat = {"code": "SAAS-SEAT"}
    call(200, "GET /products", query={"search": "seat", "active": True})
    call(200, "GET /products/{code}", seat)
    call(200, "PATCH /products/{code}", seat, body={"description": "One seat"})
    list_body = {
        "code": "STD-EUR",
        "name": "Standard",
        "currency": "EUR",
        "valid_from": "2026-01-01",
        "is_default": True,
    }
    call(201, "POST /price-lists", body=list_body)
    std = {"code": "STD-EUR"}
    call(200, "PUT /price-lists/{code}/items", std, body={"product_code": "SAAS-SEAT", "unit_price": "9.5"})
    call(
        200,
        "PUT /price-lists/{code}/items",
        std,
        body={"product_code": "SAAS-SEAT", "unit_price": "9", "min_quantity": "10"},
    )
    call(200, "GET /price-lists", query={"currency": "EUR"})
    call(200, "GET /price-lists/{code}", std)
    item = {**std, "product_code": "SAAS-SEAT"}
    call(200, "DELETE /price-lists/{code}/items/{product_code}", item, query={"min_quantity": "10"})
    rate = {"product_code": "SAAS-SEAT", "unit_price": "8", "valid_from": "2026-01-01"}
    price_id = call(201, "POST /customers/{customer_id}/prices", customer, body=rate)["id"]
    call(200, "GET /customers/{customer_id}/prices", customer, query={"on": "2026-03-01"})
    call(
        200,
        "POST /customers/{customer_id}/prices/{price_id}/end",
        {**customer, "price_id": price_id},
        body={"valid_to": "2026-12-31"},
    )
    call(200, "POST /customers/{customer_id}/price-list", customer, body={"price_list": "STD-EUR"})
    query = {
        "customer_id": customer["customer_id"],
        "product_code": "SAAS-SEAT",
        "quantity": "3",
        "on": "2026-03-01",
        "seller_country": "DE",
    }
    assert call(200, "GET /quote", query=query)["unit_price"] == "8.00"
    call(200, "POST /products/{code}/deactivate", seat)
    assert Product.objects.get(code="SAAS-SEAT").is_active is False
