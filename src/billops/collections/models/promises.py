"""Promises to pay: what a customer said it would pay, by when, and whether it did."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.core.fields import AmountField, CurrencyField


class PromiseToPay(models.Model):
    """A customer's promise to pay an amount by a day. It is kept when its payments received from the day it
    was made to the promised day plus the grace days cover the amount, and broken otherwise; while it is
    open, the customer is not dunned."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        BROKEN = "broken", "Broken"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    amount = AmountField()
    made_on = models.DateField()  # the business day the customer promised
    promised_on = models.DateField()  # the day it promised to pay by
    grace_days = models.PositiveSmallIntegerField(default=0)  # payments this many days late still count
    contact = models.CharField(max_length=200)  # who promised
    note = models.TextField(blank=True)
    invoices = models.ManyToManyField("invoicing.Invoice", blank=True, related_name="+")  # what it covers
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    paid_amount = AmountField(default=Decimal(0))  # what its payments came to when it was decided
    decided_on = models.DateField(null=True, blank=True)  # kept, broken or cancelled that day
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-made_on", "-id"]
        indexes = [models.Index(fields=["status", "promised_on"], name="promise_status_day")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(
                condition=Q(promised_on__gte=models.F("made_on")), name="promise_not_past"
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_on__isnull=True)
                | (~Q(status="open") & Q(decided_on__isnull=False)),
                name="promise_decided_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"promise of {self.amount} {self.currency} by {self.promised_on} ({self.status})"
