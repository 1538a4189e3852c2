"""The general ledger: chart of accounts, monthly periods, posted journal entries and running balances.

Entries are created posted; nothing edits them afterwards. A correction is a reversal entry that points
at the original. Every journal row is guarded three times: the services never change one, the model
refuses `save()` of an existing row and queryset `update()`/`delete()`, and on PostgreSQL a trigger
refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q

from billops.core.fields import AmountField, CurrencyField
from billops.core.money import Money, Rounding, round_money
from billops.ledger.errors import EntryImmutable


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


class AccountPurpose(models.TextChoices):
    """The control accounts that business services post to; at most one account has each purpose."""

    RECEIVABLES = "receivables", "Accounts receivable"
    UNAPPLIED_CASH = "unapplied_cash", "Unapplied cash"
    BANK_CLEARING = "bank_clearing", "Bank clearing"
    REVENUE = "revenue", "Revenue"
    TAX_PAYABLE = "tax_payable", "Tax payable"
    DISCOUNTS = "discounts", "Discounts allowed"
    WRITE_OFFS = "write_offs", "Write-offs"
    PAYMENT_DIFFERENCES = "payment_differences", "Payment differences"
    SUSPENSE = "suspense", "Suspense"
    OPENING_BALANCE_EQUITY = "opening_balance_equity", "Opening balance equity"


class Account(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    # set on control accounts only; services find them by purpose, never by code
    purpose = models.CharField(max_length=30, choices=AccountPurpose.choices, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose"], condition=~Q(purpose=""), name="ledger_one_account_per_purpose"
            ),
            models.CheckConstraint(
                condition=Q(type__in=AccountType.values), name="ledger_account_type_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class AccountingPeriod(models.Model):
    """A calendar month. Created open by the first posting into it (or by closing it)."""

    start_on = models.DateField(unique=True)  # always the 1st of a month
    end_on = models.DateField()  # the month's last day
    status = models.CharField(max_length=6, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-start_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__gte=models.F("start_on")), name="ledger_period_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PeriodStatus.values), name="ledger_period_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.start_on.strftime("%B %Y")

    @property
    def is_open(self) -> bool:
        return self.status == PeriodStatus.OPEN


class ImmutableQuerySet(models.QuerySet[Any]):
    """Posted journal rows: inserting is the only write the ORM allows."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise EntryImmutable("posted journal rows cannot be changed; post a reversal entry instead")

    def delete(self) -> NoReturn:
        raise EntryImmutable("posted journal rows cannot be deleted; post a reversal entry instead")


class ImmutableRow(models.Model):
    objects: Any = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise EntryImmutable(f"{self} is posted and cannot be changed; post a reversal entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise EntryImmutable(f"{self} is posted and cannot be deleted; post a reversal entry instead")


class JournalEntry(ImmutableRow):
    posted_on = models.DateField(db_index=True)
    period = models.ForeignKey(AccountingPeriod, on_delete=models.PROTECT, related_name="entries")
    memo = models.CharField(max_length=200, blank=True)
    # the business document this entry posts, e.g. "customers.openingbalance" / "42"; blank for manual entries
    source_type = models.CharField(max_length=80, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    posted_at = models.DateTimeField()
    # None only for postings by the system itself (migrations, scheduled jobs)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # SHA-256 over the entry's content and its lines (see posting.entry_digest); proves nothing changed
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["source_type", "source_id"], name="ledger_entry_source")]
        constraints = [
            models.CheckConstraint(
                condition=Q(source_type="", source_id="") | (~Q(source_type="") & ~Q(source_id="")),
                name="ledger_entry_source_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Entry {self.pk} on {self.posted_on.isoformat()}"

    @property
    def reversal(self) -> JournalEntry | None:
        """The entry that reversed this one, if any."""
        try:
            return self.reversed_by
        except JournalEntry.DoesNotExist:
            return None


class JournalLine(ImmutableRow):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveSmallIntegerField()  # 1, 2, 3 … within the entry
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    currency = CurrencyField()
    # exactly one side is positive; both are already exact to the currency's minor unit
    debit = AmountField(default=0)
    credit = AmountField(default=0)
    # the customer this line concerns: a plain id, as the ledger sits below customers
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["line_no"]
        indexes = [models.Index(fields=["account", "currency"], name="ledger_line_account_currency")]
        constraints = [
            models.UniqueConstraint(fields=["entry", "line_no"], name="ledger_line_number_once_per_entry"),
            models.CheckConstraint(
                condition=Q(debit__gte=0, credit__gte=0)
                & (Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)),
                name="ledger_line_one_positive_side",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line_no} of entry {self.entry_id}"

    @property
    def amount(self) -> Money:
        """The line's amount on whichever side it sits, at the currency's minor unit."""
        return round_money(self.debit or self.credit, self.currency, Rounding.HALF_UP)

    @property
    def is_debit(self) -> bool:
        return self.debit > 0


class AccountDayBalance(models.Model):
    """Running totals per account, currency and day, kept by `post_entry` in the posting's transaction.

    A balance as of a date is the sum of the day rows up to it, so reports never scan the journal.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="day_balances")
    currency = CurrencyField()
    posted_on = models.DateField()
    debit_total = AmountField(default=0)
    credit_total = AmountField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "currency", "posted_on"], name="ledger_one_balance_per_account_day"
            ),
        ]
        indexes = [models.Index(fields=["posted_on"], name="ledger_day_balance_on")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.currency} {self.posted_on.isoformat()}"
