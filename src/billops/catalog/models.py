"""What we sell and what it costs: products with their charge codes, price lists, customer-specific
prices, and tax codes with their rates per jurisdiction and date.

Prices keep six places and quantities four; amounts are rounded only on the invoice, by the core policy.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.core.fields import AmountField, CurrencyField

QUANTITY_DIGITS, QUANTITY_PLACES = 18, 4  # up to 4 places: 1.2500 hours
RATE_DIGITS, RATE_PLACES = 7, 4  # a percentage: 19.0000, 8.8750


class TaxCode(models.Model):
    """A kind of tax treatment a product carries; the rate comes from TaxRate for the jurisdiction."""

    class Kind(models.TextChoices):
        STANDARD = "standard", "VAT standard rate"
        REDUCED = "reduced", "VAT reduced rate"
        ZERO = "zero", "VAT zero rate"
        EXEMPT = "exempt", "Exempt from VAT"
        SALES_TAX = "sales_tax", "US sales tax"

    code = models.CharField(max_length=20, unique=True)  # "VAT-STD", "VAT-RED", "US-SALES"
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    legal_note = models.CharField(
        max_length=300, blank=True
    )  # printed on documents, e.g. the exemption article
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=~Q(code=""), name="tax_code_present")]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def is_vat(self) -> bool:
        return self.kind in (self.Kind.STANDARD, self.Kind.REDUCED, self.Kind.ZERO, self.Kind.EXEMPT)


class TaxRate(models.Model):
    """The rate of a tax code in a jurisdiction over a span of dates.

    VAT rates are per country (region and locality empty). US sales tax adds up the state row
    (region = state, locality empty) and the local row (locality = ZIP code) for the ship-to address.
    """

    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="rates")
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    region = models.CharField(max_length=10, blank=True)  # a US state ("CA"); empty = the whole country
    locality = models.CharField(max_length=20, blank=True)  # a ZIP code; empty = the whole region
    rate = models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES)  # percent: 19.0000
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # inclusive; None = until further notice

    class Meta:
        ordering = ["tax_code", "country", "region", "locality", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code", "country", "region", "locality", "valid_from"], name="tax_rate_once"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lt=100), name="tax_rate_range"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="tax_rate_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(locality="") | ~Q(region=""), name="tax_rate_locality_inside_region"
            ),
        ]

    def __str__(self) -> str:
        where = "/".join(part for part in (self.country, self.region, self.locality) if part)
        return f"{self.tax_code.code} {where} {self.rate}% from {self.valid_from}"


class Product(models.Model):
    """A product or service with its charge code: where its revenue posts and how it is taxed."""

    code = models.CharField(max_length=30, unique=True)  # the charge code: "CONSULT-HR", "SAAS-SEAT"
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)  # the default line text on an invoice
    unit = models.CharField(max_length=20, default="each")  # "hour", "month", "GB"
    revenue_account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="products")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code="") & ~Q(name=""), name="product_code_and_name_present")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceList(models.Model):
    """Prices in one currency over a span of dates; the default list of a currency prices everyone else."""

    code = models.CharField(max_length=30, unique=True)  # "STD-EUR-2026"
    name = models.CharField(max_length=100)
    currency = CurrencyField()
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # inclusive
    is_default = models.BooleanField(default=False)  # the list used when a customer has none of its own

    class Meta:
        ordering = ["currency", "-valid_from", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="price_list_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.currency})"


class PriceListItem(models.Model):
    """A unit price on a list; several rows with rising `min_quantity` make volume breaks."""

    price_list = models.ForeignKey(PriceList, on_delete=models.PROTECT, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="price_list_items")
    min_quantity = models.DecimalField(
        max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, default=Decimal(0)
    )  # this price holds from this quantity on a line
    unit_price = AmountField()  # in the list's currency, up to 6 places

    class Meta:
        ordering = ["price_list", "product", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"], name="price_list_item_once"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, min_quantity__gte=0), name="price_list_item_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_list.code} {self.product.code} from {self.min_quantity}: {self.unit_price}"


class CustomerPriceList(models.Model):
    """The price list a customer buys from instead of the default list of its currency."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.PROTECT, related_name="+")
    price_list = models.ForeignKey(PriceList, on_delete=models.PROTECT, related_name="customers")

    def __str__(self) -> str:
        return f"customer {self.customer_id} buys from {self.price_list.code}"


class CustomerPrice(models.Model):
    """A customer's or contract's own rate for a product: an override of the price lists, audited."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="customer_prices")
    currency = CurrencyField()
    min_quantity = models.DecimalField(
        max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, default=Decimal(0)
    )
    unit_price = AmountField()
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # inclusive
    contract_reference = models.CharField(max_length=60, blank=True)  # the contract that set this rate
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "product", "-valid_from", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "product", "currency", "min_quantity", "valid_from"],
                name="customer_price_once",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, min_quantity__gte=0), name="customer_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="customer_price_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} {self.product.code}: {self.unit_price} {self.currency}"


class TaxRateImport(models.Model):
    """One imported rate table file: what was read, by whom; the target of the import's audit event."""

    filename = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()  # data rows in the file
    created = models.PositiveIntegerField()  # rates added; rows already present are not added again
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )  # None: the operator on the command line (`billops catalog seed`)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.rows} rows)"
