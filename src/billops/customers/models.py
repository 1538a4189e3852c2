"""Customer master data: accounts, their contacts and addresses, payment terms and tags.

Rules that one row can check are CheckConstraints as well, so raw SQL cannot break them either;
everything else (VAT checksums, hierarchy cycles, permissions) is checked in `validation` and `services`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.core.calendars import add_months, day_of_month, month_end, month_start
from billops.core.fields import AmountField, CurrencyField
from billops.core.money import Money, round_money


class PaymentTerms(models.Model):
    """When an invoice falls due, and the early-payment discount it offers."""

    class Kind(models.TextChoices):
        NET_DAYS = "net_days", "Net days after the invoice date"
        DAY_OF_MONTH = "day_of_month", "A day of the following month"
        END_OF_MONTH_PLUS = "end_of_month_plus", "Days after the end of the invoice month"

    code = models.CharField(max_length=20, unique=True)  # "NET30", "2/10NET30", "EOM15"
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NET_DAYS)
    days = models.PositiveSmallIntegerField(default=0)  # net days, or days after the month end
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)  # 1..31, only for DAY_OF_MONTH
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))  # 2.00 = 2 %
    discount_days = models.PositiveSmallIntegerField(default=0)  # the discount holds this many days

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "payment terms"
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lt=100),
                name="terms_discount_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="day_of_month", day_of_month__isnull=False, day_of_month__gte=1, day_of_month__lte=31
                )
                | (~Q(kind="day_of_month") & Q(day_of_month__isnull=True)),
                name="terms_day_of_month_only_for_that_kind",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent=0, discount_days=0)
                | Q(discount_percent__gt=0, discount_days__gt=0),
                name="terms_discount_has_days",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def due_on(self, invoice_on: date) -> date:
        """The due date of an invoice dated `invoice_on` (calendar days; no business-day shift)."""
        if self.kind == self.Kind.DAY_OF_MONTH:
            following = add_months(month_start(invoice_on), 1)
            return day_of_month(following.year, following.month, self.day_of_month or 1)
        if self.kind == self.Kind.END_OF_MONTH_PLUS:
            return month_end(invoice_on) + timedelta(days=self.days)
        return invoice_on + timedelta(days=self.days)

    def discount_until(self, invoice_on: date) -> date | None:
        """The last day the early-payment discount may be taken, or None when the terms offer none."""
        if not self.discount_percent:
            return None
        return invoice_on + timedelta(days=self.discount_days)


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)  # normalised: lower case, words joined by "-"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        CLOSED = "closed", "Closed"

    class TaxStatus(models.TextChoices):
        TAXABLE = "taxable", "Taxable"
        EXEMPT = "exempt", "Exempt"

    class Cycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUAL = "annual", "Annual"
        ANNIVERSARY = "anniversary", "Anniversary"

    class Delivery(models.TextChoices):
        EMAIL = "email", "E-mail"
        POST = "post", "Post"
        PORTAL = "portal", "Portal"
        EINVOICE = "einvoice", "E-invoice"

    class InvoicePer(models.TextChoices):
        """How a bill run splits a customer's work into invoices."""

        CUSTOMER = "customer", "One invoice per customer"
        MATTER_OR_CONTRACT = "matter_or_contract", "One invoice per matter or contract"

    account_number = models.CharField(max_length=20, unique=True)  # "C-1001": A-Z, 0-9 and inner dashes
    legal_name = models.CharField(max_length=200)
    trading_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    currency = CurrencyField()  # invoices, the credit limit and statements are in this currency
    terms = models.ForeignKey(PaymentTerms, on_delete=models.PROTECT, related_name="customers")
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2
    vat_id = models.CharField(max_length=40, blank=True)  # compact, with its country prefix: "DE136695976"
    tax_id = models.CharField(max_length=40, blank=True)  # compact national tax number
    tax_status = models.CharField(max_length=10, choices=TaxStatus.choices, default=TaxStatus.TAXABLE)
    exemption_certificate = models.CharField(max_length=100, blank=True)
    exemption_expires_on = models.DateField(null=True, blank=True)
    cycle = models.CharField(max_length=12, choices=Cycle.choices, default=Cycle.MONTHLY)
    cycle_day = models.PositiveSmallIntegerField(null=True, blank=True, default=1)  # None for anniversary
    anniversary_on = models.DateField(null=True, blank=True)  # only for anniversary billing
    credit_limit = AmountField(default=Decimal(0))  # in `currency`; 0 = no credit extended
    credit_hold = models.BooleanField(default=False)
    credit_hold_reason = models.CharField(max_length=200, blank=True)
    remittance_instructions = models.TextField(blank=True)
    delivery_method = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.EMAIL)
    document_language = models.CharField(max_length=5, blank=True)  # "en", "de", "fr"; empty = the entity's
    po_required = models.BooleanField(default=False)  # an invoice without a PO number is not issued
    invoice_approval_required = models.BooleanField(default=False)  # every invoice needs a second person
    run_invoice_per = models.CharField(max_length=20, choices=InvoicePer.choices, default=InvoicePer.CUSTOMER)
    run_creates_drafts = models.BooleanField(
        default=False
    )  # bill runs leave its invoices as drafts to review
    einvoice_endpoint_id = models.CharField(
        max_length=60, blank=True
    )  # "<scheme>:<id>", e.g. "0088:5798000000001"
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    bill_to_parent = models.BooleanField(default=False)  # invoices go to the parent account
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"
            ),
            models.CheckConstraint(condition=~Q(account_number=""), name="customer_account_number_present"),
            models.CheckConstraint(condition=~Q(legal_name=""), name="customer_legal_name_present"),
            models.CheckConstraint(
                condition=Q(status__in=["prospect", "active", "inactive", "closed"]),
                name="customer_status_known",
            ),
            models.CheckConstraint(
                condition=Q(tax_status="taxable")
                | Q(tax_status="exempt", exemption_expires_on__isnull=False) & ~Q(exemption_certificate=""),
                name="customer_exemption_has_certificate",
            ),
            models.CheckConstraint(
                condition=Q(cycle="anniversary", anniversary_on__isnull=False, cycle_day__isnull=True)
                | Q(
                    cycle__in=["monthly", "quarterly", "annual"],
                    cycle_day__isnull=False,
                    cycle_day__gte=1,
                    cycle_day__lte=31,
                ),
                name="customer_cycle_complete",
            ),
            models.CheckConstraint(
                condition=~Q(delivery_method="einvoice") | ~Q(einvoice_endpoint_id=""),
                name="customer_einvoice_has_endpoint",
            ),
            models.CheckConstraint(
                condition=Q(credit_hold=False) | ~Q(credit_hold_reason=""), name="customer_hold_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")), name="customer_not_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(bill_to_parent=False) | Q(parent__isnull=False),
                name="customer_bill_to_parent_has_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} {self.legal_name}"

    @property
    def credit_limit_money(self) -> Money:
        """The credit limit at the currency's minor unit (the column keeps six places)."""
        return round_money(self.credit_limit, self.currency)

    @property
    def cycle_label(self) -> str:
        if self.cycle == self.Cycle.ANNIVERSARY:
            return f"Anniversary ({self.anniversary_on:%d %b})" if self.anniversary_on else "Anniversary"
        return f"{self.get_cycle_display()} on day {self.cycle_day}"


class Contact(models.Model):
    class Role(models.TextChoices):
        BILLING = "billing", "Billing"
        AP = "ap", "Accounts payable"
        COLLECTIONS = "collections", "Collections"
        OTHER = "other", "Other"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contacts")
    role = models.CharField(max_length=12, choices=Role.choices)
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)  # the one reminders and invoices go to for this role

    class Meta:
        ordering = ["role", "-is_primary", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "role"], condition=Q(is_primary=True), name="contact_one_primary_per_role"
            ),
            models.CheckConstraint(condition=~Q(name="") | ~Q(email=""), name="contact_has_name_or_email"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.email} ({self.get_role_display()})"


class Address(models.Model):
    class Kind(models.TextChoices):
        BILLING = "billing", "Billing"
        SHIPPING = "shipping", "Shipping"
        REMIT_TO = "remit_to", "Remit to"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="addresses")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    lines = models.TextField()  # street lines, one per line
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)  # ISO 3166-1 alpha-2

    class Meta:
        ordering = ["kind", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=Q(kind__in=["billing", "remit_to"]),
                name="address_one_billing_and_remit_to",
            ),
            models.CheckConstraint(condition=~Q(lines="") & ~Q(city=""), name="address_has_lines_and_city"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.lines.splitlines()[0] if self.lines else ''}, {self.city}"


class CustomerImport(models.Model):
    """One accepted import file: the target of its summary audit event."""

    filename = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_format = models.CharField(max_length=4)  # "csv" or "xlsx"
    rows = models.PositiveIntegerField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"import of {self.filename} ({self.rows} customers)"


class OpeningBalance(models.Model):
    """What a customer owed (or was owed) when its account moved to billops from an earlier system.

    It is an open item of the receivables subledger, posted to the receivables control account.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="opening_balances")
    currency = CurrencyField()
    amount = AmountField()  # positive = the customer owes us; negative = a credit carried over
    open_amount = AmountField()  # still open; cash application reduces it
    balance_on = models.DateField()  # the cut-over date; the journal entry is posted on it
    reference = models.CharField(max_length=100)  # the earlier system's document or account reference
    journal_entry_id = models.BigIntegerField(null=True, unique=True)  # set in the posting transaction
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["balance_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "reference"], name="opening_balance_reference_once"),
            models.CheckConstraint(condition=~Q(amount=0), name="opening_balance_not_zero"),
        ]

    def __str__(self) -> str:
        return f"opening balance {self.reference} {self.amount} {self.currency}"


class OpenItemMovement(models.Model):
    """One dated change of what an open item of the receivables subledger has open: an invoice, credit or
    debit note, or opening balance issued, paid, credited, voided, or paid again after a payment was taken
    back. The sum of an item's movements up to a day is what it had open that day, which is how aging is
    reproduced for a past date; `billops check` verifies that the sum up to now is the item's open amount.
    """

    class Kind(models.TextChoices):
        DOCUMENT = "document", "Invoice, credit or debit note"
        OPENING_BALANCE = "opening_balance", "Opening balance"

    class Reason(models.TextChoices):
        ISSUED = "issued", "Issued"
        OPENING = "opening", "Carried over"
        APPLIED = "applied", "Paid"
        UNAPPLIED = "unapplied", "Payment taken back"
        CREDITED = "credited", "Credit note"
        VOIDED = "voided", "Voided"
        WRITTEN_OFF = "written_off", "Written off as bad debt"
        REINSTATED = "reinstated", "Written off, then paid after all"

    item_kind = models.CharField(max_length=16, choices=Kind.choices)
    item_id = models.BigIntegerField()  # the invoice's or opening balance's id: two kinds, so no FK
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    entity_id = models.BigIntegerField(null=True, blank=True)  # the issuing entity; none for opening balances
    currency = CurrencyField()
    document_on = models.DateField()  # the item's date: invoice date, cut-over date
    due_on = models.DateField()  # when it falls due; a credit note's own date
    moved_on = models.DateField()  # the business day of the change
    amount = AmountField()  # positive = the customer owes more; never zero
    reason = models.CharField(max_length=12, choices=Reason.choices)

    class Meta:
        ordering = ["moved_on", "id"]
        indexes = [
            models.Index(fields=["customer", "moved_on"], name="movement_customer_day"),
            models.Index(fields=["item_kind", "item_id"], name="movement_item"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="movement_not_zero")]

    def __str__(self) -> str:
        return f"{self.item_kind} {self.item_id} {self.reason} {self.amount} {self.currency} {self.moved_on}"
