"""Time and expense: timekeepers and their hourly rates, matters per customer, the UTBMS code sets, and
the time entries and expenses recorded on matters, approved, reviewed before billing and billed once."""

from __future__ import annotations

from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES
from billops.core.fields import AmountField, CurrencyField


class Role(models.TextChoices):
    """A timekeeper's role; a rate may be set for a role instead of one person."""

    PARTNER = "partner"
    COUNSEL = "counsel"
    ASSOCIATE = "associate"
    PARALEGAL = "paralegal"
    OTHER = "other"


class Timekeeper(models.Model):
    """Someone whose time is billed: a partner, an associate, a paralegal."""

    code = models.CharField(max_length=10, unique=True)  # initials as printed on invoices: "JD"
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=10, choices=Role.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="timekeeper"
    )  # their login, if they have one: they may not approve their own time
    is_active = models.BooleanField(default=True)  # an inactive timekeeper records no new time
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=~Q(code=""), name="timekeeper_code_present")]

    def __str__(self) -> str:
        return f"timekeeper {self.code}"


class Matter(models.Model):
    """A customer's case or project that time and expenses are recorded on, with its billing guidelines."""

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"  # takes no new time or expenses; approved work is still billed

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30, unique=True)  # "M-2026-001", stored in capitals
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField()  # no time before this day
    closed_on = models.DateField(null=True, blank=True)
    # the customer's billing guidelines: every entry needs a UTBMS task and activity code, every
    # expense an expense code
    utbms_required = models.BooleanField(default=False)
    # the products that bill fees and expenses: their tax code and revenue account
    fee_product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    expense_product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    po_number = models.CharField(max_length=60, blank=True)  # printed on every invoice line of the matter
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True)
                | Q(status="closed", closed_on__isnull=False),
                name="matter_closed_on_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"matter {self.number}"


class Rate(models.Model):
    """An hourly rate from a day on, for one timekeeper or every timekeeper of a role, by default or only
    for one customer or one matter. The most specific rate valid on an entry's date bills it
    (`pricing.RateBook`)."""

    timekeeper = models.ForeignKey(
        Timekeeper, on_delete=models.PROTECT, null=True, blank=True, related_name="rates"
    )
    role = models.CharField(max_length=10, choices=Role.choices, blank=True)  # instead of a timekeeper
    # a matter's rate keeps the matter's customer here too, so a run reads the rates of its customers only
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, null=True, blank=True, related_name="rates")
    hourly_rate = AmountField()  # in `currency`, up to 6 places
    currency = CurrencyField()  # a customer's or matter's rate is in the customer's currency
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)  # inclusive; None: until a later rate replaces it
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(timekeeper__isnull=False, role="") | Q(timekeeper__isnull=True) & ~Q(role=""),
                name="rate_for_timekeeper_or_role",
            ),
            models.CheckConstraint(
                condition=Q(matter__isnull=True) | Q(customer__isnull=False), name="rate_matter_has_customer"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="rate_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(hourly_rate__gte=0), name="rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"rate {self.pk}: {self.hourly_rate} {self.currency}/h from {self.valid_from.isoformat()}"


class UtbmsCode(models.Model):
    """A code of the ABA Uniform Task-Based Management System (litigation code set): a phase or task
    (L110), an activity (A104) or an expense (E101)."""

    class CodeSet(models.TextChoices):
        TASK = "task"
        ACTIVITY = "activity"
        EXPENSE = "expense"

    code = models.CharField(max_length=10, unique=True)
    code_set = models.CharField(max_length=10, choices=CodeSet.choices)
    phase = models.CharField(max_length=10, blank=True)  # a task's phase (L110 → L100); blank on a phase
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class WorkStatus(models.TextChoices):
    """Where a time entry or an expense is on its way to an invoice."""

    DRAFT = "draft"  # being recorded: may change or be deleted
    SUBMITTED = "submitted"  # waiting for a supervisor's approval; may still change
    APPROVED = "approved"  # billed by the next run that covers its date; may be written down or up
    BILLED = "billed"  # on an invoice (issued, or a run's draft under review): locked


class RecordedWork(models.Model):
    """What time entries and expenses share: the matter and its customer, the workflow and who did what."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()  # the customer's: amounts on this row and its invoice line
    status = models.CharField(max_length=10, choices=WorkStatus.choices, default=WorkStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)  # why it last went back to draft
    billed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class TimeEntry(RecordedWork):
    """Hours a timekeeper worked on a matter on one day, in tenths, with what was done."""

    timekeeper = models.ForeignKey(Timekeeper, on_delete=models.PROTECT, related_name="entries")
    worked_on = models.DateField()
    hours = models.DecimalField(max_digits=3, decimal_places=1)  # as worked: 0.1 to 24.0, never changed
    narrative = models.CharField(max_length=1000)
    task_code = models.ForeignKey(
        UtbmsCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    activity_code = models.ForeignKey(
        UtbmsCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # the pre-bill review's write-down or write-up: the hours, or the amount, to bill instead
    billed_hours = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    billed_amount = AmountField(null=True, blank=True)  # in `currency`, at its minor unit
    adjustment_reason = models.CharField(max_length=300, blank=True)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    adjusted_at = models.DateTimeField(null=True, blank=True)
    billed_rate = AmountField(null=True, blank=True)  # the hourly rate the run found, in `currency`

    class Meta:
        ordering = ["-worked_on", "-id"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(fields=["customer", "status", "worked_on"], name="time_entry_pending"),
            models.Index(fields=["timekeeper", "worked_on"], name="time_entry_by_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24), name="time_entry_hours_in_a_day"),
            models.CheckConstraint(
                condition=Q(billed_hours__isnull=True) | Q(billed_hours__gt=0), name="time_entry_billed_hours"
            ),
            models.CheckConstraint(
                condition=Q(billed_amount__isnull=True) | Q(billed_amount__gte=0, billed_hours__isnull=True),
                name="time_entry_billed_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="billed") | Q(billed_at__isnull=False, billed_rate__isnull=False),
                name="time_entry_billed_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"time entry {self.pk}"


class Expense(RecordedWork):
    """A cost incurred on a matter (copies, travel, court fees), billed with a markup."""

    incurred_on = models.DateField()
    expense_code = models.ForeignKey(
        UtbmsCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    unit_cost = AmountField()  # in `currency`, up to 6 places
    markup_percent = models.DecimalField(max_digits=7, decimal_places=4, default=0)  # 10 = cost + 10 %

    class Meta:
        ordering = ["-incurred_on", "-id"]
        indexes = [models.Index(fields=["customer", "status", "incurred_on"], name="expense_pending")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0, unit_cost__gte=0, markup_percent__gte=0, markup_percent__lte=100),
                name="expense_amounts_sane",
            ),
            models.CheckConstraint(
                condition=~Q(status="billed") | Q(billed_at__isnull=False), name="expense_billed_recorded"
            ),
        ]

    def __str__(self) -> str:
        return f"expense {self.pk}"


Work = TypeVar("Work", TimeEntry, Expense)  # either kind of recorded work, for the functions both share
