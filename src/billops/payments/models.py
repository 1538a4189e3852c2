"""Money received from customers and where it went: bank accounts, receipts, and their applications to
invoices and opening balances."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billops.core.fields import AmountField, CurrencyField


class BankAccount(models.Model):
    """One of our bank accounts: receipts into it post to its ledger account (bank clearing by default)."""

    code = models.CharField(max_length=20, unique=True)  # "MAIN-EUR"
    name = models.CharField(max_length=100)
    currency = CurrencyField()
    number = models.CharField(max_length=40, unique=True)  # IBAN or account number, compacted
    bic = models.CharField(max_length=11, blank=True)
    ledger_account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    # how this bank lays out its CSV export: the CsvMapping's columns and options (no account, currency)
    csv_layout = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.currency})"


class Receipt(models.Model):
    """Money a customer paid into one of our bank accounts. It posts bank (debit) against unapplied
    cash (credit) and stays unapplied, in whole or in part, until applied to invoices."""

    class Method(models.TextChoices):
        CHEQUE = "cheque", "Cheque"
        ACH = "ach", "ACH"
        WIRE = "wire", "Wire transfer"
        CARD = "card", "Card"
        CASH = "cash", "Cash"
        DIRECT_DEBIT = "direct_debit", "Direct debit"

    class Status(models.TextChoices):
        POSTED = "posted", "Posted"
        REVERSED = "reversed", "Reversed"

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="receipts")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="receipts")
    method = models.CharField(max_length=12, choices=Method.choices)
    currency = CurrencyField()
    amount = AmountField()
    unapplied_amount = AmountField()  # what is left to apply; a credit on the customer's account
    received_on = models.DateField()
    payer_name = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=100, blank=True)  # cheque number, bank or remittance reference
    # card payments: never a card number, only what identifies the payment at the processor
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    processor_reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)  # a retried post replays the first
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.POSTED)
    journal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # a returned payment (NSF, a returned direct debit, a card chargeback): the bank took the money back
    reversed_on = models.DateField(null=True, blank=True)
    return_code = models.CharField(max_length=12, blank=True)  # "AM04", "R01", "NSF", "CHARGEBACK"
    return_reason = models.CharField(max_length=300, blank=True)
    reversal_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # the fee charged to the customer for the returned payment: an invoice of its own
    return_fee_invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receipt_amount_positive"),
            models.CheckConstraint(
                condition=Q(unapplied_amount__gte=0, unapplied_amount__lte=F("amount")),
                name="receipt_unapplied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(card_last4="") | Q(card_last4__regex=r"^[0-9]{4}$"), name="receipt_card_last4"
            ),
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="receipt_idempotency_key_once",
            ),
        ]
        indexes = [models.Index(fields=["customer", "unapplied_amount"], name="receipt_customer_open")]

    def __str__(self) -> str:
        return f"receipt {self.pk} of {self.amount} {self.currency}"


class Application(models.Model):
    """Part of a receipt applied to one open item: an invoice, or an opening balance. It posts unapplied
    cash (debit) against receivables (credit). Unapplying it posts the mirror entry; the row stays, as the
    record of both."""

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="applications")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    opening_balance = models.ForeignKey(
        "customers.OpeningBalance", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    currency = CurrencyField()
    amount = AmountField()  # the cash applied
    discount = AmountField(default=0)  # the early-payment discount taken with it, off the same invoice
    written_off = AmountField(default=0)  # what the payment left short, written off to close the invoice
    discount_vat = AmountField(default=0)  # the VAT in the discount, taken off the VAT owed
    applied_on = models.DateField()
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    unapplied_on = models.DateField(null=True, blank=True)
    unapply_reason = models.CharField(max_length=300, blank=True)
    unapply_entry = models.ForeignKey(
        "ledger.JournalEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unapplied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["receipt", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="application_amount_positive"),
            models.CheckConstraint(
                condition=Q(discount__gte=0, written_off__gte=0), name="application_deductions_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(discount_vat__gte=0, discount_vat__lte=F("discount")),
                name="application_discount_vat_within_discount",
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, opening_balance__isnull=True)
                | Q(invoice__isnull=True, opening_balance__isnull=False),
                name="application_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"application {self.pk}: {self.amount} {self.currency} of receipt {self.receipt_id}"

    @property
    def is_active(self) -> bool:
        return self.unapply_entry_id is None

    @property
    def settled(self) -> Decimal:
        """What it took off the item's open amount: the cash, the discount and the write-off."""
        return self.amount + self.discount + self.written_off


class WriteOffTolerance(models.Model):
    """What a payment in this currency may leave of an invoice and still close it, the difference (a bank
    fee, a short pay) written off to payment differences: up to the lower of an amount and a percent of
    the invoice's total. Beyond it only a supervisor writes off."""

    currency = CurrencyField(unique=True)
    max_amount = AmountField()
    max_percent = models.DecimalField(max_digits=5, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_amount__gte=0, max_percent__gte=0, max_percent__lte=100),
                name="write_off_tolerance_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"write-off tolerance {self.currency}: {self.max_amount} or {self.max_percent} %"


class Refund(models.Model):
    """Money paid back to a customer out of a receipt's unapplied cash (a credit on its account). It posts
    unapplied cash (debit) against the bank account's ledger account (credit)."""

    class Method(models.TextChoices):
        WIRE = "wire", "Wire transfer"
        ACH = "ach", "ACH"
        CHEQUE = "cheque", "Cheque"
        CARD = "card", "Card (back to the card paid with)"

    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="refunds")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=Method.choices)
    currency = CurrencyField()
    amount = AmountField()
    refunded_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300)
    journal_entry = models.ForeignKey("ledger.JournalEntry", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-refunded_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.pk} of {self.amount} {self.currency}"


class AppliedRemittance(models.Model):
    """A remittance advice applied to a receipt, known by what it says was paid (`RemittanceAdvice.digest`):
    the same advice again, the same file or its content in another format, is refused."""

    digest = models.CharField(max_length=64, unique=True)
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="remittances")
    format = models.CharField(max_length=10)
    payment_reference = models.CharField(max_length=100, blank=True)
    rows = models.PositiveIntegerField()
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"remittance advice applied to receipt {self.receipt_id}"


class StatementFile(models.Model):
    """A bank file imported once (by its SHA-256: the same file again, renamed or not, is not read twice)
    and what became of its lines: each line is posted, parked in the matching queue, or rejected with a
    reason (`billops check` I3)."""

    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=10)  # camt.053, camt.054, bai2, mt940, ofx, csv
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="files")
    statement_ids = models.JSONField(default=list)  # the bank's ids of the statements in it
    lines_read = models.PositiveIntegerField(default=0)
    total_in = AmountField(default=0)  # money in of all its lines
    total_out = AmountField(default=0)  # money out, as a positive amount
    currency = CurrencyField()
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.format} file {self.file_name}"


class BankLine(models.Model):
    """One line of an imported bank file and where it landed: posted (a receipt, applied or not), parked
    in the matching queue for a clerk, or rejected with the reason (pending at the bank, imported before,
    money out). A posted line keeps the evidence it was matched on; a parked one its ranked suggestions."""

    class Status(models.TextChoices):
        POSTED = "posted", "Posted"
        PARKED = "parked", "In the matching queue"
        REJECTED = "rejected", "Rejected"

    file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="lines")
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    line = models.PositiveIntegerField()  # where it is in the file
    booked_on = models.DateField()
    value_on = models.DateField(null=True, blank=True)
    amount = AmountField()  # signed: more than 0 is money in
    currency = CurrencyField()
    bank_reference = models.CharField(max_length=100)
    end_to_end_id = models.CharField(max_length=100, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_account = models.CharField(max_length=40, blank=True)
    payer_bank = models.CharField(max_length=20, blank=True)
    remittance = models.TextField(blank=True)
    creditor_reference = models.CharField(max_length=40, blank=True)
    bank_code = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=300, blank=True)  # why it was rejected or parked
    receipt = models.OneToOneField(
        Receipt, on_delete=models.PROTECT, null=True, blank=True, related_name="bank_line"
    )
    # money out that is a receipt coming back (returned payment), or a refund we paid, as the bank booked it
    returned_receipt = models.OneToOneField(
        Receipt, on_delete=models.PROTECT, null=True, blank=True, related_name="return_line"
    )
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="bank_line"
    )
    evidence = models.JSONField(default=dict)  # the match it was posted on: rule, fields, score
    suggestions = models.JSONField(default=list)  # ranked candidates while parked
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # False for a line rejected as pending at the bank or as imported before: its reference stays free
    # for the booked line of a later file; every other line holds its reference for good
    holds_reference = models.BooleanField(default=True)

    class Meta:
        ordering = ["file", "line"]
        constraints = [
            # a line the bank sent twice (the same file renamed, overlapping statements) is read once
            models.UniqueConstraint(
                fields=["bank_account", "bank_reference"],
                condition=Q(holds_reference=True),
                name="bank_line_once_per_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status="posted")
                | Q(receipt__isnull=False)
                | Q(returned_receipt__isnull=False)
                | Q(refund__isnull=False),
                name="bank_line_posted_has_receipt",
            ),
        ]
        indexes = [models.Index(fields=["status", "booked_on"], name="bank_line_queue")]

    def __str__(self) -> str:
        return f"bank line {self.line} of {self.file_id}: {self.amount} {self.currency}"


class PayerAccount(models.Model):
    """A payer's bank account known to belong to a customer: remembered when a clerk confirms a match,
    so the next payment from it is matched to the customer by the account alone."""

    number = models.CharField(max_length=40, unique=True)  # IBAN or account number, compacted
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.number} → customer {self.customer_id}"
