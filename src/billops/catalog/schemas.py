"""Request and reply bodies of the catalog API (api.py).

Prices, quantities and rates go out as decimal text without trailing zeros beyond what the currency
shows ("49.90", "0.125", "19"); they come in as decimal strings (`AmountIn`).
"""

# no `from __future__ import annotations`: Ninja and pydantic read these annotations at run time

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema

from billops.catalog import selectors
from billops.catalog.display import plain_decimal, price_text
from billops.catalog.models import CustomerPrice, PriceList, PriceListItem, Product, TaxCode, TaxRate
from billops.core.schemas import AmountIn, AmountOut, DateIn, ErrorOut, RowId, StrictIn


class TaxRateOut(Schema):
    id: int
    tax_code: str
    country: str
    region: str
    locality: str
    rate: AmountOut  # percent: "19", "8.875"
    valid_from: date
    valid_to: date | None

    @staticmethod
    def resolve_tax_code(obj: TaxRate) -> str:
        return obj.tax_code.code

    @staticmethod
    def resolve_rate(obj: TaxRate) -> str:
        return plain_decimal(obj.rate)


class TaxCodeOut(Schema):
    code: str
    name: str
    kind: str
    legal_note: str
    is_active: bool


class TaxCodeWithRatesOut(TaxCodeOut):
    current_rates: list[TaxRateOut]  # the rates in force on the day asked for (today by default)

    @staticmethod
    def resolve_current_rates(obj: TaxCode) -> list[TaxRate]:
        return list(getattr(obj, "current_rates", []))


class TaxCodeIn(StrictIn):
    code: str
    name: str
    kind: str  # standard, reduced, zero, exempt or sales_tax
    legal_note: str = ""


class TaxRateIn(StrictIn):
    country: str
    rate: AmountIn  # percent, at least 0 and below 100
    valid_from: DateIn
    region: str = ""  # a US state; empty for VAT
    locality: str = ""  # a ZIP code inside the state
    valid_to: DateIn | None = None


class RejectOut(Schema):
    row: int | None
    column: str
    message: str


class RateImportOut(Schema):
    rows: int
    created: int
    unchanged: int  # rows equal to rates already stored
    closed: int  # open-ended rates ended the day before a new rate of their place
    import_id: int | None  # null when every row was there already
    file_sha256: str


class ImportRejectedOut(ErrorOut):
    rejects: list[RejectOut]
    rejects_csv: str


class ProductOut(Schema):
    code: str
    name: str
    description: str
    unit: str
    revenue_account: str
    tax_code: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_revenue_account(obj: Product) -> str:
        return obj.revenue_account.code

    @staticmethod
    def resolve_tax_code(obj: Product) -> str:
        return obj.tax_code.code


class BreakPriceOut(Schema):
    """A price of a list from a quantity on: what every reply of a list price shows."""

    min_quantity: AmountOut
    unit_price: AmountOut

    @staticmethod
    def resolve_min_quantity(obj: PriceListItem) -> str:
        return plain_decimal(obj.min_quantity)

    @staticmethod
    def resolve_unit_price(obj: PriceListItem) -> str:
        return price_text(obj.unit_price, obj.price_list.currency)


class ListPriceOut(BreakPriceOut):
    price_list: str
    currency: str

    @staticmethod
    def resolve_price_list(obj: PriceListItem) -> str:
        return obj.price_list.code

    @staticmethod
    def resolve_currency(obj: PriceListItem) -> str:
        return obj.price_list.currency


class ProductDetailOut(ProductOut):
    list_prices: list[ListPriceOut]

    @staticmethod
    def resolve_list_prices(obj: Product) -> list[PriceListItem]:
        return list(selectors.product_list_prices(obj))


class ProductIn(StrictIn):
    code: str  # the charge code
    name: str
    revenue_account: str  # the code of a revenue account
    tax_code: str
    unit: str = "each"
    description: str = ""


class ProductChangeIn(StrictIn):
    """Only the fields sent are changed; the charge code stays."""

    name: str | None = None
    description: str | None = None
    unit: str | None = None
    revenue_account: str | None = None
    tax_code: str | None = None


class ProductFilters(Schema):
    search: str = ""  # in codes, names and descriptions
    active: bool | None = None


class PriceListOut(Schema):
    code: str
    name: str
    currency: str
    valid_from: date
    valid_to: date | None
    is_default: bool


class ItemOut(BreakPriceOut):
    product_code: str
    product_name: str

    @staticmethod
    def resolve_product_code(obj: PriceListItem) -> str:
        return obj.product.code

    @staticmethod
    def resolve_product_name(obj: PriceListItem) -> str:
        return obj.product.name


class PriceListDetailOut(PriceListOut):
    items: list[ItemOut]

    @staticmethod
    def resolve_items(obj: PriceList) -> list[PriceListItem]:
        return list(selectors.list_price_list_items(obj))


class PriceListIn(StrictIn):
    code: str
    name: str
    currency: str
    valid_from: DateIn
    valid_to: DateIn | None = None
    is_default: bool = False


class ListPriceIn(StrictIn):
    product_code: str
    unit_price: AmountIn  # up to 6 decimal places
    min_quantity: AmountIn = Decimal(0)  # the volume break: this price holds from this quantity on


class CustomerPriceOut(Schema):
    id: int
    customer_id: int
    product_code: str
    currency: str
    min_quantity: AmountOut
    unit_price: AmountOut
    valid_from: date
    valid_to: date | None
    contract_reference: str
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_product_code(obj: CustomerPrice) -> str:
        return obj.product.code

    @staticmethod
    def resolve_min_quantity(obj: CustomerPrice) -> str:
        return plain_decimal(obj.min_quantity)

    @staticmethod
    def resolve_unit_price(obj: CustomerPrice) -> str:
        return price_text(obj.unit_price, obj.currency)

    @staticmethod
    def resolve_created_by(obj: CustomerPrice) -> str:
        return obj.created_by.get_username()


class CustomerPriceIn(StrictIn):
    product_code: str
    unit_price: AmountIn
    valid_from: DateIn
    valid_to: DateIn | None = None
    min_quantity: AmountIn = Decimal(0)
    contract_reference: str = ""


class EndPriceIn(StrictIn):
    valid_to: DateIn  # the rate's last day


class AssignPriceListIn(StrictIn):
    price_list: str | None  # null: back to the default list of the customer's currency


class AssignedOut(Schema):
    customer_id: int
    price_list: str | None


class QuoteQuery(Schema):
    customer_id: RowId
    product_code: str
    quantity: AmountIn
    seller_country: str  # where the seller is established, for VAT
    on: DateIn | None = None  # today when left out
    seller_region: str = ""
    seller_postal_code: str = ""
    seller_vat_id: str = ""


class QuoteOut(Schema):
    customer_id: int
    product_code: str
    quantity: AmountOut
    on: date
    currency: str
    unit_price: AmountOut
    price_source: str  # "customer rate (K-12)", "price list STD-EUR from 10"
    tax_code: str
    tax_rate: AmountOut  # percent
    tax_treatment: str  # taxed, zero_rated, exempt, reverse_charge, outside_scope
    tax_label: str
    tax_note: str  # printed on the invoice
    tax_warning: str  # for the clerk
