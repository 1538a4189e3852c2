"""Bad debt written off, and what was recovered of it afterwards."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.core.fields import AmountField, CurrencyField


class WriteOff(models.Model):
    """Part or all of an invoice's open amount written off as bad debt, posted to the write-off account.
    Above the approval policy's amount it was approved by a second person; the request keeps what they
    saw."""

    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    amount = AmountField()
    reason = models.CharField(max_length=300)
    written_off_on = models.DateField()
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )  # None: below the policy's amount, no second person needed
    approval_request = models.OneToOneField(
        "access.ApprovalRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recovered_amount = AmountField(default=Decimal(0))  # paid after all, later
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-written_off_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_amount_positive"),
            models.CheckConstraint(
                condition=Q(recovered_amount__gte=0, recovered_amount__lte=F("amount")),
                name="write_off_recovered_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"write-off of {self.amount} {self.currency} on invoice {self.invoice_id}"


class Recovery(models.Model):
    """Money received for a debt written off before: the receivable is reinstated and the cash applied."""

    write_off = models.ForeignKey(WriteOff, on_delete=models.PROTECT, related_name="recoveries")
    receipt = models.ForeignKey("payments.Receipt", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    amount = AmountField()
    recovered_on = models.DateField()
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_amount_positive")]

    def __str__(self) -> str:
        return f"recovery of {self.amount} {self.currency} on write-off {self.write_off_id}"
