"""The daily cash report: what came in, by day, method and bank account; how it ties to the banks'
statements; and the cash still unapplied, oldest first. Reads only.

The tie-out per bank account, over the report's days: billops' side is the receipts received, less the
receipts returned and the refunds paid, in those days; the bank's side is the statement lines posted for that
account (money in as receipts, money out as returns and refunds). What billops holds and no statement
shows yet is **in transit**: a cheque entered by hand, a refund not yet booked by the bank.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from billops.core.money import round_money
from billops.payments.models import BankAccount, BankLine, Receipt, Refund


@dataclass(frozen=True)
class CashDay:
    day: date
    bank_account: str
    method: str
    currency: str
    receipts: int
    amount: Decimal
    from_statements: int  # of those receipts, how many came from a bank file's line


@dataclass(frozen=True)
class TieOut:
    bank_account: str
    currency: str
    receipts: Decimal  # received in the days, as billops booked them
    returned: Decimal  # receipts the bank returned in the days (reversed)
    refunded: Decimal  # refunds paid in the days
    statements: Decimal  # what the statements' posted lines say moved, in less out

    @property
    def booked(self) -> Decimal:
        return self.receipts - self.returned - self.refunded

    @property
    def in_transit(self) -> Decimal:
        return self.booked - self.statements


@dataclass(frozen=True)
class Unapplied:
    receipt_id: int
    customer: str
    received_on: date
    currency: str
    amount: Decimal


@dataclass
class CashReport:
    date_from: date
    date_to: date
    days: list[CashDay] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)  # received per currency
    tie_out: list[TieOut] = field(default_factory=list)
    unapplied: list[Unapplied] = field(default_factory=list)


def _money(value: Decimal | None, currency: str) -> Decimal:
    return round_money(value or Decimal(0), currency).amount


def cash_report(*, date_from: date, date_to: date) -> CashReport:
    """The receipts received from `date_from` to `date_to` (both included), their tie to the statements,
    and every receipt with cash still unapplied (whenever received)."""
    report = CashReport(date_from, date_to)
    received = Receipt.objects.filter(received_on__gte=date_from, received_on__lte=date_to)
    rows = (
        received.values("received_on", "bank_account__code", "method", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), lines=Count("bank_line"))
        .order_by("received_on", "bank_account__code", "method")
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        amount = _money(row["total"], row["currency"])
        report.days.append(
            CashDay(row["received_on"], row["bank_account__code"], row["method"], row["currency"], row["n"],
                    amount, row["lines"])
        )  # fmt: skip
        totals[row["currency"]] += amount
    report.totals = dict(sorted(totals.items()))
    report.tie_out = _tie_out(date_from, date_to)
    report.unapplied = [
        Unapplied(pk, account, received_on, currency, _money(amount, currency))
        for pk, account, received_on, currency, amount in Receipt.objects.filter(
            status=Receipt.Status.POSTED, unapplied_amount__gt=0
        )
        .order_by("received_on", "pk")
        .values_list("pk", "customer__account_number", "received_on", "currency", "unapplied_amount")
    ]
    return report


def _by_account(rows: QuerySet[Any], field: str = "amount") -> dict[str, Decimal]:
    return dict(
        rows.values("bank_account__code")
        .annotate(total=Sum(field))
        .order_by()
        .values_list("bank_account__code", "total")
    )


def _tie_out(date_from: date, date_to: date) -> list[TieOut]:
    """Per bank account with anything in the days: billops' receipts, returns and refunds, and the
    statements' posted lines."""
    received = _by_account(Receipt.objects.filter(received_on__gte=date_from, received_on__lte=date_to))
    returned = _by_account(Receipt.objects.filter(reversed_on__gte=date_from, reversed_on__lte=date_to))
    refunded = _by_account(Refund.objects.filter(refunded_on__gte=date_from, refunded_on__lte=date_to))
    statements = _by_account(
        BankLine.objects.filter(
            status=BankLine.Status.POSTED, booked_on__gte=date_from, booked_on__lte=date_to
        )
    )
    codes = set(received) | set(returned) | set(refunded) | set(statements)
    found = []
    for bank in BankAccount.objects.filter(code__in=codes).order_by("code"):
        code, currency = bank.code, bank.currency
        found.append(
            TieOut(
                code, currency, _money(received.get(code), currency), _money(returned.get(code), currency),
                _money(refunded.get(code), currency), _money(statements.get(code), currency),
            )
        )  # fmt: skip
    return found
