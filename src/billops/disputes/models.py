"""Dispute cases: a customer contests (part of) an issued invoice; the case is worked within an SLA and
decided by a credit note, a re-bill, a rejection or the customer's withdrawal.

Every amount here is tax included, as the customer sees it on the invoice and pays it (or keeps back).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.core.fields import AmountField, CurrencyField

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # 10 MiB: a scanned delivery note or a photo, not an archive


class Reason(models.TextChoices):
    """What the customer says is wrong."""

    PRICE = "price", "Price"
    QUANTITY = "quantity", "Quantity"
    NOT_RECEIVED = "not_received", "Not received"
    DUPLICATE = "duplicate", "Duplicate billing"
    TAX = "tax", "Tax"
    QUALITY = "quality", "Quality"
    OTHER = "other", "Other"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    INVESTIGATING = "investigating", "Investigating"
    RESOLVED_CREDIT = "resolved_credit", "Resolved by credit note"
    RESOLVED_REBILL = "resolved_rebill", "Resolved by re-bill"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


# a case still being worked: its amount is disputed (dunning leaves it out) and it counts against the
# invoice's open amount for further cases
ACTIVE_STATUSES = (Status.OPEN, Status.INVESTIGATING)
FINAL_STATUSES = (Status.RESOLVED_CREDIT, Status.RESOLVED_REBILL, Status.REJECTED, Status.WITHDRAWN)
# decisions that say why: the root cause is required
DECIDED_STATUSES = (Status.RESOLVED_CREDIT, Status.RESOLVED_REBILL, Status.REJECTED)


class RootCause(models.TextChoices):
    """What was found to be the cause, for the billing-accuracy reports."""

    PRICING_ERROR = "pricing_error", "Pricing error"
    WRONG_QUANTITY = "wrong_quantity", "Wrong quantity"
    DELIVERY_FAILURE = "delivery_failure", "Delivery failure"
    DUPLICATE_BILLING = "duplicate_billing", "Duplicate billing"
    TAX_ERROR = "tax_error", "Tax error"
    PRODUCT_QUALITY = "product_quality", "Product quality"
    CUSTOMER_ERROR = "customer_error", "Customer error"
    OTHER = "other", "Other"


class Source(models.TextChoices):
    MANUAL = "manual", "Entered by staff"
    REMITTANCE_DEDUCTION = "remittance_deduction", "Remittance deduction"
    PORTAL = "portal", "Customer portal"


class DisputeCase(models.Model):
    """A customer's dispute of an issued invoice, or of some of its lines."""

    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="disputes")
    # kept on the row so that a customer's cases are read (and distributed) without the invoice
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="disputes")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    currency = CurrencyField()  # the invoice's
    amount = AmountField()  # disputed, tax included; positive
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_on = models.DateField()  # the business date it was opened
    sla_due_on = models.DateField()  # decided by this day, or it is overdue
    source = models.CharField(max_length=24, choices=Source.choices, default=Source.MANUAL)
    source_reference = models.CharField(max_length=100, blank=True)  # the remittance or portal reference
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # real timestamps, not business dates: the dispute-resolution-time KPI measures them
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)  # set exactly when the case is final
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    # what a resolution issued: the credit note (both ways) and, for a re-bill, the corrected draft (until
    # someone deletes that draft)
    credit_note = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rebill_draft = models.ForeignKey(
        "invoicing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "sla_due_on"], name="dispute_status_sla"),
            models.Index(fields=["customer", "status"], name="dispute_customer_status"),
            models.Index(fields=["invoice", "status"], name="dispute_invoice_status"),
            models.Index(fields=["owner", "status"], name="dispute_owner_status"),
            models.Index(fields=["resolved_at"], name="dispute_resolved_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive"),
            models.CheckConstraint(
                condition=Q(sla_due_on__gte=models.F("opened_on")), name="dispute_sla_not_before_opening"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in FINAL_STATUSES], resolved_at__isnull=False)
                | (~Q(status__in=[s.value for s in FINAL_STATUSES]) & Q(resolved_at__isnull=True)),
                name="dispute_resolved_at_exactly_when_final",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[s.value for s in DECIDED_STATUSES]) | ~Q(root_cause=""),
                name="dispute_decision_has_root_cause",
            ),
            models.CheckConstraint(
                condition=Q(status="resolved_credit", credit_note__isnull=False, rebill_draft__isnull=True)
                # a re-bill's draft may be deleted afterwards (`forget_rebill_draft`); its credit note stays
                | Q(status="resolved_rebill", credit_note__isnull=False)
                | (
                    ~Q(status__in=["resolved_credit", "resolved_rebill"])
                    & Q(credit_note__isnull=True, rebill_draft__isnull=True)
                ),
                name="dispute_resolution_documents",
            ),
            # the same remittance deduction opens one case (the final guard of `open_deduction_case`)
            models.UniqueConstraint(
                fields=["invoice", "source_reference"],
                condition=Q(source="remittance_deduction"),
                name="dispute_deduction_once",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class DisputedLine(models.Model):
    """One invoice line the case disputes, and how much of it (tax included)."""

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey("invoicing.InvoiceLine", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    amount = AmountField()  # tax included; positive

    class Meta:
        ordering = ["case", "line__line_no"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disputed_line_amount_positive"),
            models.UniqueConstraint(fields=["case", "line"], name="disputed_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} of invoice line {self.line_id}"


class DisputeNote(models.Model):
    """What someone found, asked or agreed while working the case."""

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="dispute_note_not_empty")]

    def __str__(self) -> str:
        return f"note {self.pk} on dispute {self.case_id}"


class DisputeAttachment(models.Model):
    """Evidence kept with the case (a delivery note, a photo, the customer's letter), stored in the
    database with its SHA-256 so a download can be checked against what was uploaded."""

    case = models.ForeignKey(DisputeCase, on_delete=models.CASCADE, related_name="attachments")
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()  # bytes
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gt=0, size__lte=MAX_ATTACHMENT_BYTES), name="dispute_attachment_size"
            ),
            models.CheckConstraint(condition=~Q(file_name=""), name="dispute_attachment_named"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.size} bytes) on dispute {self.case_id}"
