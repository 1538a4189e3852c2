"""Sales orders: what a customer ordered at which price. Each delivery against an order line makes what
it delivered billable, so a partial delivery bills only what went out."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES
from billops.core.fields import AmountField, CurrencyField


class SalesOrder(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        DELIVERED = "delivered"  # every line delivered in full
        CLOSED = "closed"  # closed by hand: nothing more will be delivered

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=30, unique=True)  # the order number, "SO-2026-0042"
    order_date = models.DateField()  # its lines are priced as of this day
    po_number = models.CharField(max_length=60, blank=True)  # the customer's purchase order
    currency = CurrencyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-order_date", "-id"]

    def __str__(self) -> str:
        return f"order {self.number}"


class OrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)  # ordered
    unit = models.CharField(max_length=20, blank=True)
    unit_price = AmountField()  # at the order date: entered, or the customer's price
    price_source = models.CharField(max_length=120)
    tax_code = models.ForeignKey("catalog.TaxCode", on_delete=models.PROTECT, related_name="+")
    delivered = models.DecimalField(
        max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, default=Decimal(0)
    )  # the sum of its deliveries

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="order_line_once"),
            models.CheckConstraint(
                condition=Q(
                    quantity__gt=0, unit_price__gte=0, delivered__gte=0, delivered__lte=F("quantity")
                ),
                name="order_line_delivered_within_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} line {self.line_no}"

    @property
    def undelivered(self) -> Decimal:
        return self.quantity - self.delivered


class Delivery(models.Model):
    """Goods shipped or work done against an order line; billable at the line's price until billed."""

    class Status(models.TextChoices):
        PENDING = "pending"
        BILLED = "billed"

    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="deliveries")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES)
    delivered_on = models.DateField()  # billed by the first run whose period covers it
    reference = models.CharField(max_length=100, blank=True)  # the delivery note
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-delivered_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "status", "delivered_on"], name="delivery_pending_by_customer")
        ]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="delivery_quantity_positive")]

    def __str__(self) -> str:
        return f"delivery {self.pk} of {self.line}"
