"""Payment plans: a customer's overdue invoices paid off in instalments, and whether it keeps to them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.catalog.models import RATE_DIGITS, RATE_PLACES
from billops.core.fields import AmountField, CurrencyField


class PaymentPlan(models.Model):
    """An agreement to pay the invoices it covers in instalments. While it is active the customer is not
    dunned; it is completed when they are paid, and defaulted when too many instalments are missed."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        DEFAULTED = "defaulted", "Defaulted"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    total = AmountField()  # what the instalments add up to: the invoices covered, the fee and interest
    fee = AmountField(default=Decimal(0))  # net, charged on `charges_note`
    interest_rate = models.DecimalField(  # percent a year, on the balance left between instalments
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=Decimal(0)
    )
    interest = AmountField(default=Decimal(0))  # net, charged on `charges_note`
    charges_note = models.ForeignKey(  # the debit note for the fee and interest; one of the items covered
        "invoicing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField()  # the business day it was agreed
    grace_days = models.PositiveSmallIntegerField(
        default=0
    )  # an instalment this many days late is not missed
    missed_to_default = models.PositiveSmallIntegerField(default=1)  # this many missed instalments default it
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    decided_on = models.DateField(null=True, blank=True)  # completed, defaulted or cancelled that day
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["customer", "status"], name="plan_customer_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gt=0, fee__gte=0, interest__gte=0), name="plan_amounts_positive"
            ),
            models.CheckConstraint(
                condition=Q(interest_rate__gte=0, interest_rate__lte=100), name="plan_interest_range"
            ),
            models.CheckConstraint(condition=Q(missed_to_default__gte=1), name="plan_default_after_one"),
            models.CheckConstraint(
                condition=Q(status="active", decided_on__isnull=True)
                | (~Q(status="active") & Q(decided_on__isnull=False)),
                name="plan_decided_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"payment plan {self.pk} ({self.status})"


class PlanItem(models.Model):
    """An invoice (or debit note) the plan covers, with what it had open when the plan was agreed."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="items")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    amount = AmountField()

    class Meta:
        ordering = ["plan", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "invoice"], name="plan_item_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_item_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} on plan {self.plan_id}"


class Instalment(models.Model):
    """One part of a plan, due on a day. What was paid towards it is recomputed from the covered
    invoices on each evaluation: payments count for the instalments in the order they fall due."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        PAID = "paid", "Paid"
        MISSED = "missed", "Missed"  # stays missed when paid late: it counts towards the default

    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField()  # 1, 2, 3 … in the order they fall due
    due_on = models.DateField()
    currency = CurrencyField()
    amount = AmountField()
    paid_amount = AmountField(default=Decimal(0))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DUE)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="instalment_number_once"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, paid_amount__gte=0, paid_amount__lte=F("amount")),
                name="instalment_paid_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"instalment {self.number} of plan {self.plan_id}"
