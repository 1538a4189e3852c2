"""Metered usage: what is measured (metrics), the usage events customers generate, how each customer
pays for a metric (usage charges), and what bill runs billed of each charge's months."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES, RATE_DIGITS, RATE_PLACES
from billops.core.fields import AmountField, CurrencyField


class BillableMetric(models.Model):
    """Something measured and billed by the month: API calls (count), storage (max), active users
    (unique count). Its aggregation turns a month's events into one quantity."""

    class Aggregation(models.TextChoices):
        SUM = "sum"
        COUNT = "count"
        UNIQUE_COUNT = "unique_count"
        MAX = "max"
        LATEST = "latest"

    code = models.CharField(max_length=30, unique=True)  # "API-CALLS", stored in capitals
    name = models.CharField(max_length=100)  # on the invoice line: "API calls"
    unit = models.CharField(max_length=20)  # "calls", "GB", "users"
    aggregation = models.CharField(max_length=12, choices=Aggregation.choices)
    # the event property aggregated; none for count; for unique_count the one whose distinct values count
    field = models.CharField(max_length=60, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(aggregation="count", field="") | (~Q(aggregation="count") & ~Q(field="")),
                name="metric_field_unless_count",
            )
        ]

    def __str__(self) -> str:
        return f"metric {self.code}"


class UsageBatch(models.Model):
    """One accepted delivery of events, by the API or from a file: its counts, and who sent it."""

    class Source(models.TextChoices):
        API = "api"
        FILE = "file"

    source = models.CharField(max_length=4, choices=Source.choices)
    filename = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    received = models.PositiveIntegerField()  # events in the batch
    accepted = models.PositiveIntegerField()  # stored by this batch
    duplicates = models.PositiveIntegerField()  # already stored, or repeated within the batch
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"usage batch {self.pk}"


class UsageEvent(models.Model):
    """One measured occurrence. Never changed or deleted: bill runs rate a month from all its events."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    metric = models.ForeignKey(BillableMetric, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=100)  # the sender's id: a resend with it is stored once
    timestamp = models.DateTimeField()
    used_on = models.DateField()  # the timestamp's day in the business time zone: it decides the month
    value = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)  # the property
    unique_value = models.CharField(max_length=200, blank=True)  # unique_count: the distinct value, as text
    properties = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(UsageBatch, on_delete=models.PROTECT, related_name="events")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["customer", "metric", "used_on"], name="usage_event_by_month")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "event_id"], name="usage_event_once"),
            models.CheckConstraint(condition=Q(value__gte=0), name="usage_event_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"usage event {self.event_id} of {self.customer_id}"


class UsageCharge(models.Model):
    """How a customer pays for a metric from a start date (to an end date): a product that names the
    line's code, tax and revenue account, and a charge model with its prices in the customer's currency."""

    class Model(models.TextChoices):
        PER_UNIT = "per_unit"
        GRADUATED = "graduated"
        VOLUME = "volume"
        PACKAGE = "package"
        PERCENTAGE = "percentage"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="usage_charges")
    metric = models.ForeignKey(BillableMetric, on_delete=models.PROTECT, related_name="charges")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    model = models.CharField(max_length=10, choices=Model.choices)
    currency = CurrencyField()  # the customer's billing currency, at creation
    unit_price = AmountField(null=True, blank=True)  # per_unit
    # graduated and volume: [{"up_to": "1000" or null for the last, "unit_price": "0.01", "flat_fee": "0"}]
    tiers = models.JSONField(default=list, blank=True)
    package_size = models.DecimalField(
        max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, null=True, blank=True
    )
    package_price = AmountField(null=True, blank=True)
    percentage = models.DecimalField(
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, null=True, blank=True
    )  # percentage: 2.9 = 2.9 % of the summed amount
    fixed_fee = AmountField(null=True, blank=True)  # percentage: per event
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)  # inclusive; its last month is billed in arrears
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "metric", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="usage_charge_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"usage charge {self.pk}: {self.metric_id} for {self.customer_id}"


class UsagePeriodBilling(models.Model):
    """What one bill run billed for a charge's month: the first billing (part 1), then each late-usage
    adjustment (2, 3, …) by the difference. The sum of a month's parts is what the month was billed."""

    charge = models.ForeignKey(UsageCharge, on_delete=models.PROTECT, related_name="billings")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()  # its first day
    part = models.PositiveSmallIntegerField()
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    amount = AmountField()
    currency = CurrencyField()
    events = models.IntegerField()  # events counted by this part (the difference, for an adjustment)
    billed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["charge", "month", "part"]
        constraints = [
            models.UniqueConstraint(fields=["charge", "month", "part"], name="usage_month_part_once")
        ]

    def __str__(self) -> str:
        return f"usage charge {self.charge_id} {self.month:%Y-%m} part {self.part}"
