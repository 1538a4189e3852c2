"""Checking what a clerk types on a draft line, and recalculating a draft's prices, tax and totals.

Building blocks of the draft and issue services: they run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from billops.access import clock
from billops.catalog.models import Product, TaxCode
from billops.catalog.pricing import PriceBook
from billops.catalog.tax import Exemption, TaxDecision, TaxParty, decide_tax
from billops.core.errors import InvalidAmount, InvalidInput, NotFound
from billops.core.memo import cached
from billops.core.money import Rounding, to_decimal
from billops.customers.models import Address, Customer
from billops.invoicing.calc import LineInput, compute_totals
from billops.invoicing.models import Invoice, InvoiceLine, InvoiceTax, TaxRounding
from billops.ledger.accounts import REVENUE, control_account
from billops.ledger.models import Account

MAX_QUANTITY_PLACES, MAX_PRICE_PLACES = 4, 6
MAX_INTEGER_DIGITS = 12  # the amount columns hold 18 digits with 6 places
MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class LineData:
    """One line as entered; a product fills in the description, unit, price and tax code left empty."""

    quantity: Any
    description: str = ""
    product_code: str = ""
    unit: str = ""
    unit_price: Any = None  # None = from the customer's prices or the price lists
    discount_percent: Any = "0"
    discount_amount: Any = "0"
    tax_code: str = ""
    service_start: date | None = None
    service_end: date | None = None
    reference: str = ""
    credits_line_id: int | None = field(default=None)  # credit notes only


def _number(value: Any, *, field: str, places: int, what: str) -> Decimal:
    number = to_decimal(value, field=field)
    if number != 0 and number.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmount(f"{what} {value} is too large (at most {MAX_INTEGER_DIGITS} digits)", field=field)
    exponent = number.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and -exponent > places
        and number != number.quantize(Decimal(1).scaleb(-places))
    ):
        raise InvalidAmount(f"{what} {value} has more than {places} decimal places", field=field)
    return number


def clean_quantity(value: Any, field: str = "quantity") -> Decimal:
    quantity = _number(value, field=field, places=MAX_QUANTITY_PLACES, what="quantity")
    if quantity <= 0:
        raise InvalidAmount(
            f"quantity must be more than zero, got {value}; to give money back, raise a credit note",
            field=field,
        )
    return quantity


def clean_price(value: Any, field: str = "unit_price") -> Decimal:
    price = _number(value, field=field, places=MAX_PRICE_PLACES, what="unit price")
    if price < 0:
        raise InvalidAmount(
            f"unit price must not be negative, got {value}; a discount or a credit note gives money back",
            field=field,
        )
    return price


def clean_percent(value: Any, field: str) -> Decimal:
    percent = _number(value, field=field, places=4, what="percentage")
    if not 0 <= percent <= 100:
        raise InvalidAmount(f"{field} must be between 0 and 100, got {value}", field=field)
    return percent


def clean_text(value: Any, field: str, *, limit: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    if "\x00" in text:
        raise InvalidInput(f"{field} contains a NUL character", field=field)
    return text


def _products(codes: set[str]) -> dict[str, Product]:
    found = Product.objects.select_related("tax_code", "revenue_account").filter(code__in=codes)
    return {product.code: product for product in found}


class LineSources:
    """What the lines of one document are built from, each read once for all of them: the products
    named, the customer's prices on the pricing date, the revenue account of free-text lines."""

    def __init__(self, invoice: Invoice, lines: Sequence[LineData]) -> None:
        codes = {data.product_code.strip() for data in lines if data.product_code}
        self.products = cached(("products", frozenset(codes)), lambda: _products(codes)) if codes else {}
        self.prices = PriceBook(
            customer_id=invoice.customer_id, currency=invoice.currency, on=pricing_date(invoice)
        )
        self._revenue: Account | None = None

    def product(self, code: str, field: str) -> Product:
        product = self.products.get(code.strip())
        if product is None:
            raise NotFound(f"there is no product with code {code!r}", field=field)
        if not product.is_active:
            raise InvalidInput(f"product {product.code} is no longer sold", field=field)
        return product

    def revenue_account(self) -> Account:
        if self._revenue is None:
            self._revenue = cached(("control_account", REVENUE), lambda: control_account(REVENUE))
        return self._revenue


def get_tax_code(code: str, field: str = "tax_code") -> TaxCode:
    tax_code = cached(("tax_code", code.strip()), lambda: TaxCode.objects.filter(code=code.strip()).first())
    if tax_code is None:
        raise NotFound(f"there is no tax code {code!r}", field=field)
    if not tax_code.is_active:
        raise InvalidInput(f"tax code {tax_code.code} is no longer in use", field=field)
    return tax_code


def clean_document_date(value: Any, field: str) -> date | None:
    """A document date: none, or one from the year 2000 to a year ahead (a typo, not a plan, beyond that)."""
    if value is None:
        return None
    if not isinstance(value, date):
        raise InvalidInput(f"{field} must be a date", field=field)
    latest = clock.today().replace(year=clock.today().year + 1)
    if not date(2000, 1, 1) <= value <= latest:
        raise InvalidInput(
            f"{field} {value.isoformat()} is not between 2000-01-01 and {latest.isoformat()}", field=field
        )
    return value


def pricing_date(invoice: Invoice) -> date:
    """Prices and tax rates are those of the invoice date, or of today while a draft has none."""
    return invoice.issued_on or clock.today()


def build_line(
    invoice: Invoice, data: LineData, *, line_no: int, prefix: str = "", sources: LineSources | None = None
) -> InvoiceLine:
    """An unsaved line from what was entered, priced from the catalog where the price was left out."""
    sources = sources or LineSources(invoice, [data])
    product = sources.product(data.product_code, f"{prefix}product_code") if data.product_code else None
    quantity = clean_quantity(data.quantity, f"{prefix}quantity")
    description = clean_text(data.description, f"{prefix}description", limit=500)
    if not description:
        if product is None:
            raise InvalidInput("a line needs a description or a product", field=f"{prefix}description")
        description = product.description or product.name
    if data.tax_code:
        tax_code = get_tax_code(data.tax_code, f"{prefix}tax_code")
    elif product is not None:
        tax_code = product.tax_code
    else:
        raise InvalidInput("a line without a product needs a tax code", field=f"{prefix}tax_code")
    revenue_account = product.revenue_account if product is not None else sources.revenue_account()
    if data.unit_price is None or data.unit_price == "":
        if product is None:
            raise InvalidInput("a line without a product needs a unit price", field=f"{prefix}unit_price")
        price = sources.prices.price(product, quantity)
        unit_price, price_source = price.unit_price, price.source
    else:
        unit_price, price_source = clean_price(data.unit_price, f"{prefix}unit_price"), "entered"
    if data.service_start and data.service_end and data.service_end < data.service_start:
        raise InvalidInput("the service period ends before it starts", field=f"{prefix}service_end")
    discount_amount = _number(
        data.discount_amount or "0", field=f"{prefix}discount_amount", places=6, what="discount"
    )
    if discount_amount < 0:
        raise InvalidAmount("a discount must not be negative", field=f"{prefix}discount_amount")
    return InvoiceLine(
        invoice=invoice,
        line_no=line_no,
        product=product,
        description=description,
        quantity=quantity,
        unit=clean_text(data.unit, f"{prefix}unit", limit=20) or (product.unit if product else ""),
        unit_price=unit_price,
        price_source=price_source,
        discount_percent=clean_percent(data.discount_percent or "0", f"{prefix}discount_percent"),
        discount_amount=discount_amount,
        tax_code=tax_code,
        revenue_account=revenue_account,
        service_start=data.service_start,
        service_end=data.service_end,
        reference=clean_text(data.reference, f"{prefix}reference", limit=100),
    )


def _ship_to(customer: Customer) -> Address | None:
    addresses = {address.kind: address for address in customer.addresses.all()}
    return addresses.get(Address.Kind.SHIPPING) or addresses.get(Address.Kind.BILLING)


def tax_parties(invoice: Invoice) -> tuple[TaxParty, TaxParty, Exemption | None]:
    """The seller, the buyer (at its ship-to address) and the buyer's exemption, for `decide_tax`."""
    entity, customer = invoice.entity, invoice.customer
    seller = TaxParty(
        country=entity.country, region=entity.region, postal_code=entity.postal_code, vat_id=entity.vat_id
    )
    place = _ship_to(customer)
    buyer = TaxParty(
        country=place.country if place else customer.country,
        region=place.region if place else "",
        postal_code=place.postal_code if place else "",
        vat_id=customer.vat_id,
    )
    exemption = None
    if customer.tax_status == Customer.TaxStatus.EXEMPT and customer.exemption_expires_on:
        exemption = Exemption(customer.exemption_certificate, customer.exemption_expires_on)
    return seller, buyer, exemption


def calculate(invoice: Invoice, lines: Sequence[InvoiceLine]) -> list[InvoiceTax]:
    """Decide each line's tax and set the line amounts and the document's totals in memory; the tax
    summary rows come back unsaved. Reads the tax rates and the customer's address, writes nothing: a
    draft's recalculation and a bill run's preview both price with it."""
    seller, buyer, exemption = tax_parties(invoice)
    on = pricing_date(invoice)
    decisions: dict[int, TaxDecision] = {}
    for line in lines:
        if line.tax_code_id not in decisions:
            decisions[line.tax_code_id] = decide_tax(
                tax_code=line.tax_code, seller=seller, buyer=buyer, on=on, exemption=exemption
            )
    inputs = [
        LineInput(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            discount_amount=line.discount_amount,
            tax_rate=decisions[line.tax_code_id].rate,
            tax_group=(line.tax_code_id, decisions[line.tax_code_id].treatment),
        )
        for line in lines
    ]
    totals = compute_totals(
        inputs,
        currency=invoice.currency,
        invoice_discount_percent=invoice.invoice_discount_percent,
        per_invoice_tax=invoice.tax_rounding == TaxRounding.PER_INVOICE,
        rounding=Rounding(invoice.rounding),
    )
    # check every amount fits its column before anything is written (PostgreSQL would refuse it mid-way)
    for index, result in enumerate(totals.lines):
        if result.list_value and result.list_value.adjusted() >= MAX_INTEGER_DIGITS:
            raise InvalidAmount(
                f"line {index + 1} comes to {result.list_value}, which is too large", field="lines"
            )
    if totals.total and totals.total.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidAmount(f"the invoice total {totals.total} is too large", field="lines")
    for line, result in zip(lines, totals.lines, strict=True):
        decision = decisions[line.tax_code_id]
        line.net, line.tax_amount = result.net, result.tax
        line.tax_rate, line.tax_treatment, line.tax_label = decision.rate, decision.treatment, decision.label
        line.tax_note, line.tax_warning = decision.note, decision.warning
    invoice.subtotal, invoice.discount_total = totals.subtotal, totals.discount_total
    invoice.tax_total, invoice.total = totals.tax_total, totals.total
    tax_codes = {line.tax_code_id: line.tax_code for line in lines}
    return [
        InvoiceTax(
            invoice=invoice,
            tax_code=tax_codes[group.group[0]],
            label=decisions[group.group[0]].label,
            rate=group.rate,
            treatment=decisions[group.group[0]].treatment,
            note=decisions[group.group[0]].note,
            taxable=group.taxable,
            tax=group.tax,
        )
        for group in totals.groups
    ]


def recalculate(invoice: Invoice, *, new_lines: Sequence[InvoiceLine] = (), is_new: bool = False) -> None:
    """Decide each line's tax, then write line amounts, the tax summary and the totals of a draft.

    `new_lines` are unsaved lines to add: they are saved with their amounts in one insert. `is_new`: the
    document was created in this transaction, so it has no saved lines or tax rows to read or replace.
    Afterwards `invoice.lines.all()` and `invoice.taxes.all()` answer from memory (`keep_in_memory`).
    """
    saved = (
        []
        if is_new
        else list(invoice.lines.select_related("tax_code", "product", "revenue_account").order_by("line_no"))
    )
    lines = saved + list(new_lines)
    taxes = calculate(invoice, lines)
    if saved:
        InvoiceLine.objects.bulk_update(
            saved, ["net", "tax_amount", "tax_rate", "tax_treatment", "tax_label", "tax_note", "tax_warning"]
        )
    InvoiceLine.objects.bulk_create(new_lines)
    if not is_new:
        InvoiceTax.objects.filter(invoice=invoice).delete()
    InvoiceTax.objects.bulk_create(taxes)
    invoice.save(update_fields=["subtotal", "discount_total", "tax_total", "total"])
    keep_in_memory(invoice, lines=lines, taxes=taxes)


def keep_in_memory(invoice: Invoice, **rows: Sequence[Any]) -> None:
    """Have `invoice.lines.all()` (or any related set named) answer from these rows, exactly as after
    `prefetch_related`: the checks, the posting, the digest, the frozen document and the API reply that
    follow in the same request then read none of them again. A filtered or ordered query
    (`invoice.lines.filter(…)`) still reads the database."""
    cache = invoice.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, kept in rows.items():
        cache.pop(name, None)  # else the manager hands back the rows it kept before
        queryset = getattr(invoice, name).get_queryset()
        queryset._result_cache, queryset._prefetch_done = list(kept), True
        cache[name] = queryset
