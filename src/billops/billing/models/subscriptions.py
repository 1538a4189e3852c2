"""Subscriptions: a plan sells a product every interval, in phases (a free trial, an introductory price,
then the evergreen price); a customer's subscription to it is billed period by period by the bill runs,
in advance or in arrears, each period once. Its changes (quantity, plan, pause, resume, cancellation
from a date) are kept as a history; a change into a period already invoiced is settled by a credit note
and a prorated charge that the next run bills."""

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
        PAUSED = "paused"  # not billed from its last change's date until it is resumed
        CANCELLED = "cancelled"  # ends at `end_date`, billed up to then; no end date: never started

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    # the plan and quantity now: the last change's; the history before is in `changes`
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)  # seats, units
    contract = models.ForeignKey(
        "billing.Contract", on_delete=models.PROTECT, null=True, blank=True, related_name="subscriptions"
    )
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


class SubscriptionChange(models.Model):
    """From `effective_on` on, the subscription runs at the new plan and quantity, or stops (pause,
    cancellation) or starts again (resume). Changes follow each other: none is dated before the last."""

    class Kind(models.TextChoices):
        QUANTITY = "quantity"
        PLAN = "plan"
        PAUSE = "pause"
        RESUME = "resume"
        CANCEL = "cancel"  # effective the day after the last day of service

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    effective_on = models.DateField()  # the first day of the new state
    old_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    new_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    old_quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    new_quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["subscription", "effective_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(old_quantity__gt=0, new_quantity__gt=0), name="subscription_change_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} change {self.pk} of subscription {self.subscription_id} from {self.effective_on}"


class ProratedCharge(models.Model):
    """The new plan or quantity for the rest of a period that was invoiced before a change: billed by
    the next run (`subscription_change:<change>:<period start>`); the old share was credited."""

    class Status(models.TextChoices):
        PENDING = "pending"
        BILLED = "billed"

    change = models.ForeignKey(SubscriptionChange, on_delete=models.PROTECT, related_name="charges")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()  # the period the share belongs to
    service_start = models.DateField()
    service_end = models.DateField()
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    amount = AmountField()  # the share's net, in the plan's currency: see `billables.share_amount`
    description = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class Meta:
        ordering = ["customer", "service_start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["change", "period_start"], name="prorated_charge_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="prorated_charge_positive"),
            models.CheckConstraint(
                condition=Q(service_end__gte=F("service_start")), name="prorated_charge_dates"
            ),
        ]

    def __str__(self) -> str:
        return f"prorated charge of {self.change} for the period from {self.period_start}"
