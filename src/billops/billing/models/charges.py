"""One-off charges on a customer's account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES
from billops.core.fields import AmountField, CurrencyField


class Charge(models.Model):
    """A one-off charge on a customer's account (a set-up fee, a replacement part, a call-out): priced when
    it is captured, billed by the first bill run whose period covers its date, or cancelled before that."""

    class Status(models.TextChoices):
        PENDING = "pending"
        BILLED = "billed"
        CANCELLED = "cancelled"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = AmountField()  # in `currency`, up to 6 places: entered, or the customer's price on the date
    price_source = models.CharField(max_length=120)  # "entered", "price list STD-EUR", "customer rate (K-12)"
    currency = CurrencyField()  # the customer's billing currency
    tax_code = models.ForeignKey("catalog.TaxCode", on_delete=models.PROTECT, related_name="+")
    charge_date = models.DateField()  # billed by the first run whose period ends on or after it
    service_start = models.DateField(null=True, blank=True)
    service_end = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True)  # the customer's or our own: ticket, job no.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-charge_date", "-id"]
        indexes = [
            models.Index(fields=["customer", "status", "charge_date"], name="charge_pending_by_customer")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0, unit_price__gte=0), name="charge_amounts_sane"
            ),
            models.CheckConstraint(
                condition=Q(service_end__isnull=True)
                | Q(service_start__isnull=True)
                | Q(service_end__gte=models.F("service_start")),
                name="charge_service_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False) | ~Q(status="cancelled"),
                name="charge_cancel_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"charge {self.pk} to {self.customer_id}: {self.description}"
