"""Dunning: the policies that say when and how a late payer is reminded, the runs that send the reminders,
and the notices each run sent, invoice by invoice."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.catalog.models import RATE_DIGITS, RATE_PLACES
from billops.core.fields import AmountField, CurrencyField


class DunningPolicy(models.Model):
    """A ladder of dunning levels for customers billed in one currency. The default policy of a currency
    applies to each of its customers that names no policy of its own."""

    code = models.CharField(max_length=20, unique=True)  # "STANDARD-EUR"
    name = models.CharField(max_length=100)
    currency = CurrencyField()  # its customers', its fixed fees' and its minimum's currency
    is_default = models.BooleanField(default=False)
    # a notice that asks for less than this (after disputed amounts) is not sent
    minimum_amount = AmountField(default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["currency", "code"]
        verbose_name_plural = "dunning policies"
        constraints = [
            models.UniqueConstraint(
                fields=["currency"], condition=Q(is_default=True), name="dunning_one_default_per_currency"
            ),
            models.CheckConstraint(condition=Q(minimum_amount__gte=0), name="dunning_minimum_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.currency})"


class DunningLevel(models.Model):
    """One step of a policy: how many days after the due date an invoice reaches it, what the notice says,
    how it goes out, what it charges and what it escalates to."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        LETTER = "letter", "Letter (PDF)"

    class Escalation(models.TextChoices):
        NONE = "none", "None"
        CREDIT_HOLD = "credit_hold", "Credit hold"
        COLLECTION_AGENCY = "collection_agency", "Collection agency"

    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="levels")
    number = models.PositiveSmallIntegerField()  # 1, 2, 3 … in the order of `days_after_due`
    days_after_due = models.PositiveSmallIntegerField()
    # the notice's text; placeholders {customer}, {invoices}, {total}, {fee}, {interest}, {amount_due} …
    subject = models.CharField(max_length=200)
    body = models.TextField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    fee_amount = AmountField(default=Decimal(0))  # a fixed fee in the policy's currency, or
    fee_percent = models.DecimalField(  # a fee of this percent of the amount the notice asks for
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=Decimal(0)
    )
    # percent a year, simple interest on the overdue amount for the days not charged before
    interest_rate = models.DecimalField(
        max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, default=Decimal(0)
    )
    escalation = models.CharField(max_length=20, choices=Escalation.choices, default=Escalation.NONE)

    class Meta:
        ordering = ["policy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="dunning_level_number_once"),
            models.UniqueConstraint(fields=["policy", "days_after_due"], name="dunning_level_days_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="dunning_level_number_positive"),
            models.CheckConstraint(
                condition=Q(fee_amount__gte=0, fee_percent__gte=0, fee_percent__lte=100)
                & (Q(fee_amount=0) | Q(fee_percent=0)),
                name="dunning_level_one_fee",
            ),
            models.CheckConstraint(
                condition=Q(interest_rate__gte=0, interest_rate__lte=100), name="dunning_level_interest_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.code} level {self.number} ({self.days_after_due} days)"


class DunningRun(models.Model):
    """One dunning run on a business day: which customers it covered and what it sent. A preview writes
    nothing, so every run stored here is one that sent its notices."""

    run_on = models.DateField()  # the business day the days past due are counted to
    policy = models.ForeignKey(  # only the customers of this policy; None = every policy
        DunningPolicy, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    notice_count = models.PositiveIntegerField(default=0)
    item_count = models.PositiveIntegerField(default=0)  # invoices the notices named
    debit_note_count = models.PositiveIntegerField(default=0)  # notices that charged a fee or interest
    escalation_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)  # customers left out, each with its reason

    class Meta:
        ordering = ["-run_on", "-id"]

    def __str__(self) -> str:
        return f"dunning run {self.pk} of {self.run_on}"


class DunningNotice(models.Model):
    """What one run sent one customer: the invoices that reached a new level, the fee and interest
    charged for them on a debit note, and the letter or e-mail it went out as."""

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="notices")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(  # the highest level among its items: its text, channel, fee, escalation
        DunningLevel, on_delete=models.PROTECT, related_name="notices"
    )
    currency = CurrencyField()
    overdue_total = AmountField()  # what it asks for: its items' overdue amounts, disputes left out
    fee = AmountField(default=Decimal(0))  # net, as charged on the debit note
    interest = AmountField(default=Decimal(0))  # net, the sum of its items' interest
    debit_note = models.ForeignKey(  # charges the fee and interest; a draft when it needs a clerk
        "invoicing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated = models.CharField(  # what this notice did to the account; "none" when already done
        max_length=20, choices=DunningLevel.Escalation.choices, default=DunningLevel.Escalation.NONE
    )
    channel = models.CharField(max_length=10, choices=DunningLevel.Channel.choices)
    subject = models.CharField(max_length=300)  # the level's text with the figures filled in
    body = models.TextField()
    pdf = models.BinaryField(null=True, blank=True)  # the letter; also the e-mail's attachment
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    delivery = models.ForeignKey(  # the e-mail in the delivery queue, for the e-mail channel
        "delivery.Delivery", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField()  # when the letter was produced or the e-mail queued

    class Meta:
        ordering = ["-run__run_on", "-id"]
        indexes = [models.Index(fields=["customer", "sent_at"], name="notice_customer_sent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(overdue_total__gt=0, fee__gte=0, interest__gte=0), name="notice_amounts_positive"
            ),
            models.CheckConstraint(
                condition=Q(channel="letter", delivery__isnull=True)
                | Q(channel="email", delivery__isnull=False),
                name="notice_email_has_delivery",
            ),
        ]

    def __str__(self) -> str:
        return f"dunning notice {self.pk} (level {self.level.number})"


class NoticeItem(models.Model):
    """One invoice on a notice, at the level it reached: what it had open, what a dispute held back, what
    was asked for and the interest charged on it. An invoice gets each level once."""

    notice = models.ForeignKey(DunningNotice, on_delete=models.PROTECT, related_name="items")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="+")
    currency = CurrencyField()
    days_overdue = models.PositiveIntegerField()  # on the run's day
    open_amount = AmountField()  # what the invoice had open on the run's day
    disputed_amount = AmountField(default=Decimal(0))  # held back by open dispute cases
    amount = AmountField()  # asked for: open less disputed
    interest = AmountField(default=Decimal(0))
    # the days the interest covers: from the due date or the last day interest was charged, to the run's day
    interest_from = models.DateField(null=True, blank=True)
    interest_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["notice", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="notice_item_level_once"),
            models.CheckConstraint(
                condition=Q(amount__gt=0, disputed_amount__gte=0, interest__gte=0)
                & Q(amount=F("open_amount") - F("disputed_amount")),
                name="notice_item_amounts",
            ),
            models.CheckConstraint(
                condition=Q(interest_from__isnull=True, interest_to__isnull=True)
                | Q(interest_to__gte=F("interest_from")),
                name="notice_item_interest_days",
            ),
        ]

    def __str__(self) -> str:
        return f"invoice {self.invoice_id} at level {self.level_id}"
