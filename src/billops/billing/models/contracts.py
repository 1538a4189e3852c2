"""Contracts: a customer's commitment for a term, billed every month, quarter or year. Its subscriptions
take its prices (escalated on each anniversary), a period billed below its minimum commitment is
trued up, and at the end of the term it renews by itself or ends with its subscriptions."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.billing.models.subscriptions import Plan
from billops.core.fields import AmountField, CurrencyField


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        ENDED = "ended"  # its term ran out without renewal: nothing after `end_date` is billed
        CANCELLED = "cancelled"  # ended early on `end_date`; what was invoiced beyond was credited

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30, unique=True)  # "K-2026-007"
    start_date = models.DateField()
    term_months = models.PositiveSmallIntegerField()  # the first term; a multiple of the frequency
    end_date = models.DateField()  # the last day of the current term (moved on by each renewal)
    frequency_months = models.PositiveSmallIntegerField(choices=Plan.Interval.choices)  # its billing period
    po_number = models.CharField(max_length=60, blank=True)
    auto_renew = models.BooleanField(default=False)
    renewal_term_months = models.PositiveSmallIntegerField()  # each renewal's length
    notice_days = models.PositiveSmallIntegerField(default=0)  # non-renewal notice before the term's end
    currency = CurrencyField()  # the customer's
    minimum_amount = AmountField(default=Decimal(0))  # net per billing period; 0: no commitment
    # what a true-up line sells (its revenue account and tax code); required with a minimum
    commitment_product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalation_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))  # a year
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="contract_dates"),
            models.CheckConstraint(
                condition=Q(term_months__gt=0, renewal_term_months__gt=0), name="contract_terms"
            ),
            models.CheckConstraint(
                condition=Q(minimum_amount__gte=0, escalation_percent__gte=0), name="contract_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"contract {self.number}"


class ContractPrice(models.Model):
    """The contract's price of a plan, per interval and unit, before escalation; it replaces the price
    of the plan's paid phases for the contract's subscriptions (a trial stays free)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="prices")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    unit_price = AmountField()

    class Meta:
        ordering = ["contract", "plan"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "plan"], name="contract_price_once"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="contract_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} price of {self.plan}: {self.unit_price}"
