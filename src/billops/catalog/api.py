"""API: tax codes and rate tables, products, price lists, customers' rates, and quotes, under
/api/v1/catalog/.

Prices, quantities and rates travel as decimal strings ("49.90", "10", "19"); a JSON number with a
fraction is refused. Errors come back as {code, message, field}.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import StringConstraints

from billops.access import clock
from billops.access.auth import api_actor
from billops.catalog import selectors, services
from billops.catalog.display import plain_decimal, price_text
from billops.catalog.imports import MAX_FILE_BYTES
from billops.catalog.schemas import (
    AssignedOut,
    AssignPriceListIn,
    CustomerPriceIn,
    CustomerPriceOut,
    EndPriceIn,
    ImportRejectedOut,
    ListPriceIn,
    ListPriceOut,
    PriceListDetailOut,
    PriceListIn,
    PriceListOut,
    ProductChangeIn,
    ProductDetailOut,
    ProductFilters,
    ProductIn,
    ProductOut,
    QuoteOut,
    QuoteQuery,
    RateImportOut,
    TaxCodeIn,
    TaxCodeOut,
    TaxCodeWithRatesOut,
    TaxRateIn,
    TaxRateOut,
)
from billops.catalog.tax import TaxParty
from billops.catalog.validation import clean_country
from billops.core.errors import InvalidInput
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    DateIn,
    ErrorOut,
    LimitOffset,
    RowId,
    errors,
)
from billops.customers.selectors import get_customer

router = Router()

# a tax code, charge code or price list code in a path: what the codes are made of, so that anything
# else is a 422 before it reaches a query
Code = Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9._-]+$")]


# --- tax codes and rates ---------------------------------------------------------------------------


@router.get("/tax-codes", response={200: list[TaxCodeWithRatesOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_tax_codes(request: HttpRequest, on: DateIn | None = None) -> object:
    """Every tax code with the rates in force on `on` (today by default)."""
    return selectors.list_tax_codes(on=on or clock.today())


@router.post("/tax-codes", response={201: TaxCodeOut, **errors(*WRITE_ERRORS)})
def create_tax_code(request: HttpRequest, payload: TaxCodeIn) -> object:
    return Status(201, services.create_tax_code(**payload.model_dump(), actor=api_actor(request)))


@router.get("/tax-codes/{code}/rates", response={200: list[TaxRateOut], **errors(*QUERY_ERRORS, 404)})
@paginate(LimitOffset)
def list_tax_rates(request: HttpRequest, code: Code, country: str = "", on: DateIn | None = None) -> object:
    """The code's rate table, past and future rates included unless `on` picks a day."""
    return selectors.list_tax_rates(tax_code=selectors.get_tax_code(code), country=country, on=on)


@router.post("/tax-codes/{code}/rates", response={201: TaxRateOut, **errors(*WRITE_ERRORS, 404)})
def add_tax_rate(request: HttpRequest, code: Code, payload: TaxRateIn) -> object:
    """A rate that starts after an open-ended rate of its place ends that one the day before."""
    selectors.get_tax_code(code)  # 404 for the path; the service then names its field
    rate = services.add_tax_rate(tax_code=code, **payload.model_dump(), actor=api_actor(request))
    return Status(201, rate)


@router.post(
    "/tax-rates/import",
    # a 422 is either the rejected rows or, like anywhere else, a request that does not fit the schema
    response={200: RateImportOut, **errors(*WRITE_ERRORS), 422: ImportRejectedOut | ErrorOut},
)
def import_tax_rates(request: HttpRequest, file: UploadedFile = File(...)) -> object:  # noqa: B008
    """All or nothing: 200 with what was added, or 422 with every problem by row and column."""
    if file.size and file.size > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", field="file")
    result = services.import_tax_rates(
        content=file.read(), filename=file.name or "upload", actor=api_actor(request)
    )
    if result.ok:
        fields = ("rows", "created", "unchanged", "closed", "import_id", "file_sha256")
        return Status(200, {name: getattr(result, name) for name in fields})
    return Status(
        422,
        {
            "code": "import_rejected",
            "message": f"nothing was imported: {len(result.rejects)} problems, listed by row and column",
            "field": "file",
            "rejects": result.rejects,
            "rejects_csv": result.rejects_csv(),
        },
    )


# --- products --------------------------------------------------------------------------------------


@router.get("/products", response={200: list[ProductOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_products(request: HttpRequest, filters: Query[ProductFilters]) -> object:
    return selectors.list_products(**filters.model_dump())


@router.post("/products", response={201: ProductDetailOut, **errors(*WRITE_ERRORS)})
def create_product(request: HttpRequest, payload: ProductIn) -> object:
    product = services.create_product(**payload.model_dump(), actor=api_actor(request))
    return Status(201, selectors.get_product(product.code))


@router.get("/products/{code}", response={200: ProductDetailOut, **errors(404, 422)})
def get_product(request: HttpRequest, code: Code) -> object:
    """The product with its prices on every list."""
    return selectors.get_product(code)


@router.patch("/products/{code}", response={200: ProductDetailOut, **errors(*WRITE_ERRORS, 404)})
def change_product(request: HttpRequest, code: Code, payload: ProductChangeIn) -> object:
    changes = payload.model_dump(exclude_unset=True)
    product = services.change_product(product_code=code, changes=changes, actor=api_actor(request))
    return selectors.get_product(product.code)


@router.post("/products/{code}/deactivate", response={200: ProductDetailOut, **errors(*WRITE_ERRORS, 404)})
def deactivate_product(request: HttpRequest, code: Code) -> object:
    product = services.deactivate_product(product_code=code, actor=api_actor(request))
    return selectors.get_product(product.code)


# --- price lists -----------------------------------------------------------------------------------


@router.get("/price-lists", response={200: list[PriceListOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_price_lists(request: HttpRequest, currency: str = "") -> object:
    return selectors.list_price_lists(currency=currency)


@router.post("/price-lists", response={201: PriceListDetailOut, **errors(*WRITE_ERRORS)})
def create_price_list(request: HttpRequest, payload: PriceListIn) -> object:
    return Status(201, services.create_price_list(**payload.model_dump(), actor=api_actor(request)))


@router.get("/price-lists/{code}", response={200: PriceListDetailOut, **errors(404, 422)})
def get_price_list(request: HttpRequest, code: Code) -> object:
    """The list with every price and volume break."""
    return selectors.get_price_list(code)


@router.put("/price-lists/{code}/items", response={200: ListPriceOut, **errors(*WRITE_ERRORS, 404)})
def set_list_price(request: HttpRequest, code: Code, payload: ListPriceIn) -> object:
    """Set (or replace) the price of a product from a quantity on."""
    item = services.set_list_price(price_list_code=code, **payload.model_dump(), actor=api_actor(request))
    return item


@router.delete(
    "/price-lists/{code}/items/{product_code}",
    response={200: PriceListDetailOut, **errors(*WRITE_ERRORS, 404)},
)
def remove_list_price(
    request: HttpRequest, code: Code, product_code: Code, min_quantity: AmountIn = Decimal(0)
) -> object:
    """Take the price for `min_quantity` (0 by default) off the list; the reply is the list as it is now."""
    services.remove_list_price(
        price_list_code=code, product_code=product_code, min_quantity=min_quantity, actor=api_actor(request)
    )
    return selectors.get_price_list(code)


# --- customers' rates ------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/prices", response={200: list[CustomerPriceOut], **errors(*QUERY_ERRORS, 404)}
)
@paginate(LimitOffset)
def list_customer_prices(request: HttpRequest, customer_id: RowId, on: DateIn | None = None) -> object:
    """The customer's own rates: all of them, or those valid on `on`."""
    customer = get_customer(customer_id)  # 404 for an unknown customer, not an empty list
    return selectors.list_customer_prices(customer_id=customer.pk, on=on)


@router.post(
    "/customers/{customer_id}/prices", response={201: CustomerPriceOut, **errors(*WRITE_ERRORS, 404)}
)
def set_customer_price(request: HttpRequest, customer_id: RowId, payload: CustomerPriceIn) -> object:
    """The same product, quantity and start date again replaces that rate."""
    price = services.set_customer_price(
        customer_id=customer_id, **payload.model_dump(), actor=api_actor(request)
    )
    return Status(201, price)


@router.post(
    "/customers/{customer_id}/prices/{price_id}/end",
    response={200: CustomerPriceOut, **errors(*WRITE_ERRORS, 404)},
)
def end_customer_price(
    request: HttpRequest, customer_id: RowId, price_id: RowId, payload: EndPriceIn
) -> object:
    return services.end_customer_price(
        customer_id=customer_id,
        customer_price_id=price_id,
        valid_to=payload.valid_to,
        actor=api_actor(request),
    )


@router.post("/customers/{customer_id}/price-list", response={200: AssignedOut, **errors(*WRITE_ERRORS, 404)})
def assign_price_list(request: HttpRequest, customer_id: RowId, payload: AssignPriceListIn) -> object:
    price_list = services.assign_price_list(
        customer_id=customer_id, price_list_code=payload.price_list, actor=api_actor(request)
    )
    return {"customer_id": customer_id, "price_list": price_list.code if price_list else None}


# --- quote -----------------------------------------------------------------------------------------


@router.get("/quote", response={200: QuoteOut, **errors(*QUERY_ERRORS, 404)})
def quote(request: HttpRequest, query: Query[QuoteQuery]) -> object:
    """The unit price and tax treatment a line of the product would get for the customer on the day."""
    seller = TaxParty(
        country=clean_country(query.seller_country, "seller_country"),
        region=query.seller_region.strip().upper(),
        postal_code=query.seller_postal_code.strip(),
        vat_id=query.seller_vat_id.replace(" ", "").upper(),
    )
    found = selectors.quote(
        customer_id=query.customer_id,
        product_code=query.product_code,
        quantity=query.quantity,
        on=query.on or clock.today(),
        seller=seller,
    )
    return {
        "customer_id": found.customer_id,
        "product_code": found.product_code,
        "quantity": plain_decimal(found.quantity),
        "on": found.on,
        "currency": found.price.currency,
        "unit_price": price_text(found.price.unit_price, found.price.currency),
        "price_source": found.price.source,
        "tax_code": found.tax.tax_code,
        "tax_rate": plain_decimal(found.tax.rate),
        "tax_treatment": str(found.tax.treatment),
        "tax_label": found.tax.label,
        "tax_note": found.tax.note,
        "tax_warning": found.tax.warning,
    }
