"""Bill runs: their partitions, the customers they could not bill, the drafts they left for review, and
the record of what they billed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.core.fields import AmountField, CurrencyField


class BillRun(models.Model):
    """One bill run: everything billable up to the end of a month, for the customers whose cycle is due
    then, priced and invoiced; what it billed, and each customer it could not bill and why."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"  # every due customer was billed or listed as an exception

    period_start = models.DateField()  # the first day of the month billed
    period_end = models.DateField()
    invoice_date = models.DateField()  # the date of the invoices it issues
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    customers_due = models.PositiveIntegerField(default=0)  # billed or listed: counted when it is done
    invoices_issued = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict)  # the issued invoices' totals per currency: {"EUR": "1234.50"}
    drafts_created = models.PositiveIntegerField(default=0)  # left for review: see its `drafts`
    draft_totals = models.JSONField(default=dict)  # the drafts' totals per currency

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="bill_run_period"
            )
        ]

    def __str__(self) -> str:
        return f"bill run {self.pk} for {self.period_start:%Y-%m}"


class BillRunException(models.Model):
    """A due customer a bill run could not bill, with the reason; nothing of it was billed by that run."""

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="exceptions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=100, blank=True)  # what was wrong: "unit_price", "tax_code", …
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["run", "customer"]
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="bill_run_exception_once")]

    def __str__(self) -> str:
        return f"{self.run}: customer {self.customer_id}: {self.message}"


class BillRunDraft(models.Model):
    """An invoice a bill run left as a draft for review instead of issuing it, and why. The row stays
    when the draft is deleted (its work is then pending again), as a record of what the run did."""

    class Reason(models.TextChoices):
        CUSTOMER_SETTING = "customer_setting", "The customer's invoices are reviewed as drafts"
        APPROVAL = "approval", "Needs a second person's approval"
        UNUSUAL_AMOUNT = "unusual_amount", "Held: far above the customer's usual amount"

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="drafts")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    message = models.CharField(max_length=500, blank=True)  # the approval rule, or the usual amount
    currency = CurrencyField()
    total = AmountField()

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.run}: draft for customer {self.customer_id} ({self.reason})"


class BilledItem(models.Model):
    """That one billable item went onto one document. The key is unique, so the database itself refuses
    to bill an item twice: a re-run, a crashed partition run again, two runs at once."""

    key = models.CharField(max_length=100, unique=True)  # "charge:123"
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    line_no = models.PositiveIntegerField()
    run = models.ForeignKey(BillRun, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    billed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.key} on invoice {self.invoice_id} line {self.line_no}"


class BillRunPartition(models.Model):
    """A share of a run's customers, billed by one worker. Re-running a partition is safe: each customer
    is billed in its own transaction, and one already billed has nothing pending any more."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"  # an unexpected error stopped it; `billops billrun --resume` runs it again

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="partitions")
    number = models.PositiveIntegerField()  # 1, 2, … within the run
    customer_ids = models.JSONField()  # fixed when the run opens, in account-number order
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # more than 1: resumed after a crash
    worker = models.CharField(max_length=200, blank=True)  # host and process of the last attempt
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)  # why the last attempt failed

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="bill_run_partition_once")]

    def __str__(self) -> str:
        return f"{self.run} partition {self.number}"
