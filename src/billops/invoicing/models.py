"""Billing documents: invoices, credit notes and debit notes, their lines and tax summary, the entities
that issue them, the gapless number series, and the frozen rendering of each issued document.

An issued document never changes again: services refuse, and on PostgreSQL triggers refuse raw SQL too
(only its settlement — status, open amount, credited amount and void fields — moves afterwards).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES, RATE_DIGITS, RATE_PLACES
from billops.core.fields import AmountField, CurrencyField
from billops.core.money import Rounding


class TaxRounding(models.TextChoices):
    PER_LINE = "per_line", "Round the tax of each line"
    PER_INVOICE = "per_invoice", "Round the tax of each rate once per invoice"


class BillingEntity(models.Model):
    """A company of ours that issues invoices: its letterhead, VAT ID, bank details and number prefixes."""

    code = models.CharField(max_length=20, unique=True)
    legal_name = models.CharField(max_length=200)
    address_lines = models.TextField()  # street lines, one per line
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2)
    vat_id = models.CharField(max_length=40, blank=True)
    tax_id = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)  # the sender of invoice e-mails and the reply-to address
    phone = models.CharField(max_length=40, blank=True)
    bank_account_holder = models.CharField(max_length=200, blank=True)
    bank_name = models.CharField(max_length=100, blank=True)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    bank_account_number = models.CharField(max_length=34, blank=True)  # where there is no IBAN (US)
    bank_routing_number = models.CharField(max_length=20, blank=True)
    invoice_prefix = models.CharField(max_length=10, unique=True, default="INV")
    credit_note_prefix = models.CharField(max_length=10, unique=True, default="CN")
    debit_note_prefix = models.CharField(max_length=10, unique=True, default="DN")
    tax_rounding = models.CharField(max_length=12, choices=TaxRounding.choices, default=TaxRounding.PER_LINE)
    language = models.CharField(max_length=5, default="en")  # documents' language unless a customer has one
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "billing entities"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_entity"
            ),
        ]

    def __str__(self) -> str:
        return self.legal_name


class ApprovalThreshold(models.Model):
    """Invoices of an entity at or above this total, in this currency, need a second person's approval."""

    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="approval_thresholds")
    currency = CurrencyField()
    amount = AmountField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "currency"], name="approval_threshold_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="approval_threshold_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.entity.code}: approval from {self.amount} {self.currency}"


class DocumentType(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"
    DEBIT_NOTE = "debit_note", "Debit note"


class NumberSeries(models.Model):
    """The numbers of one entity's documents of one type in one year: INV-2026-000001, 000002, …

    `next_number` only moves inside the issuing transaction, under a row lock, so a rolled-back issue
    gives its number back and two issues can never take the same one.
    """

    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="series")
    document_type = models.CharField(max_length=12, choices=DocumentType.choices)
    year = models.PositiveSmallIntegerField()
    prefix = models.CharField(max_length=10)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["entity", "document_type", "year"]
        verbose_name_plural = "number series"
        constraints = [
            models.UniqueConstraint(fields=["entity", "document_type", "year"], name="series_once"),
            models.UniqueConstraint(fields=["prefix", "year"], name="series_prefix_once_a_year"),
            models.CheckConstraint(condition=Q(next_number__gte=1), name="series_next_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}"

    def format(self, number: int) -> str:
        return f"{self.prefix}-{self.year}-{number:06d}"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"
    ISSUED = "issued", "Issued"
    PARTLY_PAID = "partly_paid", "Partly paid"
    PAID = "paid", "Paid"
    CREDITED = "credited", "Credited"
    VOID = "void", "Void"


EDITABLE_STATUSES = (InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED, InvoiceStatus.APPROVED)
SETTLED_STATUSES = (InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID, InvoiceStatus.CREDITED)
ISSUED_STATUSES = (InvoiceStatus.ISSUED, *SETTLED_STATUSES, InvoiceStatus.VOID)


class Invoice(models.Model):
    """An invoice, credit note or debit note; a draft until issued, then immutable but for its settlement."""

    document_type = models.CharField(
        max_length=12, choices=DocumentType.choices, default=DocumentType.INVOICE
    )
    status = models.CharField(max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    entity = models.ForeignKey(BillingEntity, on_delete=models.PROTECT, related_name="invoices")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="invoices")
    currency = CurrencyField()
    language = models.CharField(max_length=5, default="en")
    tax_rounding = models.CharField(max_length=12, choices=TaxRounding.choices, default=TaxRounding.PER_LINE)
    rounding = models.CharField(max_length=10, default=Rounding.HALF_UP.value)  # the core policy for amounts

    # set when issued
    series = models.ForeignKey(
        NumberSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sequence_no = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(max_length=30, null=True, blank=True, unique=True)
    issued_on = models.DateField(null=True, blank=True)  # the invoice date; the planned date on a draft
    due_on = models.DateField(null=True, blank=True)
    # the early-payment discount the terms offered at issue: this percent off if paid by that day
    early_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    early_discount_until = models.DateField(null=True, blank=True)
    terms_text = models.CharField(max_length=120, blank=True)  # the payment terms as printed

    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    po_number = models.CharField(max_length=60, blank=True)
    reference = models.CharField(max_length=100, blank=True)  # the customer's or our own reference
    notes = models.TextField(blank=True)  # printed on the document
    reason = models.CharField(max_length=300, blank=True)  # why a credit or debit note was raised
    invoice_discount_percent = models.DecimalField(
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=Decimal(0)
    )  # applied to every line after its own discounts

    # totals; recalculated on every change of a draft, frozen at issue. Positive for every type: the
    # type says which way the document moves the customer's balance.
    subtotal = AmountField(default=Decimal(0))  # sum of line nets
    discount_total = AmountField(default=Decimal(0))  # list value minus nets, for information
    tax_total = AmountField(default=Decimal(0))
    total = AmountField(default=Decimal(0))
    # settlement: what is still open in the receivables subledger (negative for a credit note not yet
    # used up); payments (and credit notes against an invoice) reduce it
    open_amount = AmountField(default=Decimal(0))
    credited_amount = AmountField(default=Decimal(0))  # settled by credit notes, for the status

    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )  # the invoice a credit or debit note corrects
    rebill_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rebills"
    )  # the invoice this draft replaces

    approval_required = models.BooleanField(default=False)
    hold_override_reason = models.CharField(max_length=300, blank=True)
    hold_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    journal_entry_id = models.BigIntegerField(null=True, blank=True, unique=True)
    digest = models.CharField(
        max_length=64, blank=True
    )  # SHA-256 of the issued content; see `content_digest`

    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    void_entry_id = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["issued_on"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["series", "sequence_no"], name="invoice_number_once_in_series"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "approved"], number__isnull=True)
                | (
                    ~Q(status__in=["draft", "submitted", "approved"])
                    & Q(number__isnull=False, series__isnull=False, sequence_no__isnull=False)
                    & Q(issued_on__isnull=False, journal_entry_id__isnull=False)
                ),
                name="invoice_number_exactly_when_issued",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, tax_total__gte=0, total__gte=0, credited_amount__gte=0),
                name="invoice_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(document_type="invoice")
                | Q(original__isnull=False)
                | Q(document_type="debit_note"),
                name="credit_note_names_its_invoice",
            ),
            models.CheckConstraint(
                condition=~Q(status="void") | (~Q(void_reason="") & Q(void_entry_id__isnull=False)),
                name="void_has_reason_and_entry",
            ),
            models.CheckConstraint(
                condition=Q(invoice_discount_percent__gte=0, invoice_discount_percent__lt=100),
                name="invoice_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_issued(self) -> bool:
        return self.status in ISSUED_STATUSES


class InvoiceLine(models.Model):
    """One billed line; on a credit note, `credits_line` names the invoice line it gives back."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = AmountField()  # up to 6 places, in the invoice currency
    price_source = models.CharField(max_length=120, blank=True)  # "price list STD-EUR", "entered by clerk"
    discount_percent = models.DecimalField(
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=Decimal(0)
    )
    discount_amount = AmountField(default=Decimal(0))  # a fixed discount off the line
    net = AmountField(default=Decimal(0))  # rounded: quantity times price less every discount
    tax_code = models.ForeignKey("catalog.TaxCode", on_delete=models.PROTECT, related_name="+")
    tax_rate = models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=Decimal(0))
    tax_treatment = models.CharField(max_length=16, blank=True)  # catalog.tax.Treatment
    tax_label = models.CharField(max_length=60, blank=True)
    tax_note = models.CharField(max_length=300, blank=True)
    tax_warning = models.CharField(max_length=300, blank=True)
    tax_amount = AmountField(default=Decimal(0))  # this line's share of the tax
    revenue_account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    credits_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credited_by"
    )  # on a credit note: the invoice line it credits

    class Meta:
        ordering = ["invoice", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_no"], name="invoice_line_no_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, discount_amount__gte=0, net__gte=0, tax_amount__gte=0),
                name="invoice_line_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="invoice_line_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(service_start__isnull=True)
                | Q(service_end__isnull=True)
                | Q(service_end__gte=models.F("service_start")),
                name="invoice_line_service_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.description[:40]}"


class InvoiceTax(models.Model):
    """The tax summary of a document: one row per tax code, rate and treatment."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="taxes")
    tax_code = models.ForeignKey("catalog.TaxCode", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=60)
    rate = models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES)
    treatment = models.CharField(max_length=16)
    note = models.CharField(max_length=300, blank=True)
    taxable = AmountField()
    tax = AmountField()

    class Meta:
        ordering = ["invoice", "-rate", "tax_code"]

    def __str__(self) -> str:
        return f"{self.label}: {self.tax} on {self.taxable}"


class CreditAllocation(models.Model):
    """A credit note used to settle (part of) an invoice of the same customer."""

    credit_note = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations_made")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations_received")
    currency = CurrencyField()
    amount = AmountField()
    allocated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_allocation_positive")]

    def __str__(self) -> str:
        return (
            f"{self.amount} {self.currency} of credit note {self.credit_note_id} on invoice {self.invoice_id}"
        )


class IssuedDocument(models.Model):
    """The document as issued: everything it shows, frozen in the issuing transaction, and the PDF
    rendered from that afterwards.

    The content (the document's view as canonical JSON, `rendering.frozen`) is hashed at issue. The PDF
    is rendered from it outside the issuing transaction (HTML templates and WeasyPrint take milliseconds
    to tens of milliseconds per document, which must not hold the number series lock, nor slow a bill
    run) and is written once.
    """

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="document")
    content = models.TextField()
    content_sha256 = models.CharField(max_length=64)
    pdf = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(pdf__isnull=True, pdf_sha256="") | Q(pdf__isnull=False) & ~Q(pdf_sha256=""),
                name="issued_document_pdf_with_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"document of invoice {self.invoice_id} ({self.content_sha256[:12]})"
