"""Subscriptions: a plan sells a product every interval, in phases (a free trial, an introductory price,
then the evergreen price); a customer's subscription to it is billed period by period by the bill runs,
in advance or in arrears, each period once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES
from billops.core.fields import AmountField, CurrencyField


class Plan(models.Model):
    class Interval(models.IntegerChoices):
        MONTH = 1, "monthly"
        QUARTER = 3, "quarterly"
        YEAR = 12, "yearly"

    class Timing(models.TextChoices):
        ADVANCE = "advance", "in advance"  # a period is billed before it starts
        ARREARS = "arrears", "in arrears"  # a period is billed once it has ended

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    interval_months = models.PositiveSmallIntegerField(choices=Interval.choices)
    timing = models.CharField(max_length=10, choices=Timing.choices)
    is_active = models.BooleanField(default=True)  # an inactive plan takes no new subscriptions
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"plan {self.code}"


class PlanPhase(models.Model):
    """One stage of a plan: `periods` intervals at a unit price; the last phase (no `periods`) lasts."""

    class Kind(models.TextChoices):
        TRIAL = "trial"
        INTRODUCTORY = "introductory"
        EVERGREEN = "evergreen"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField()  # 1, 2, …: the order the phases run in
    kind = models.CharField(max_length=15, choices=Kind.choices)
    periods = models.PositiveSmallIntegerField(null=True, blank=True)  # None: until the subscription ends
    unit_price = AmountField()  # per interval and unit; 0 in a trial

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="plan_phase_once"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="plan_phase_price_not_negative"),
            models.CheckConstraint(
                condition=Q(periods__isnull=True) | Q(periods__gt=0), name="plan_phase_periods"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} phase {self.position} ({self.kind})"


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        CANCELLED = "cancelled"  # ends at `end_date`, billed up to then; no end date: never started

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)  # seats, units
    start_date = models.DateField()  # periods run from here: the same day each interval
    end_date = models.DateField(null=True, blank=True)  # the last day of service; None: until cancelled
    po_number = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["customer", "start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="subscription_quantity_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="subscription_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk} to {self.plan}"
