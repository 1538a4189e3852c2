"""Ledger reads: accounts, periods, entries, balances, the trial balance, and the checks of `billops check`.

Balances come from the running day totals (`AccountDayBalance`), never from a scan of the journal.
Sign convention everywhere: a balance is debits minus credits, so positive = debit balance.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Sum

from billops.access import clock
from billops.audit.models import AuditEvent
from billops.audit.selectors import list_events
from billops.core.calendars import month_start
from billops.core.db import given
from billops.core.errors import NotFound
from billops.core.money import Money, Rounding, round_money
from billops.ledger.accounts import RECEIVABLES, control_account, resolve_account
from billops.ledger.models import (
    Account,
    AccountDayBalance,
    AccountingPeriod,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)
from billops.ledger.posting import entry_digest

__all__ = [
    "control_account",
    "resolve_account",
]


def settle(value: Decimal | None, currency: str) -> Money:
    """A summed amount as Money at the currency's minor unit.

    Every posted amount is exact to the minor unit (checked at posting), so this changes nothing on
    PostgreSQL; on SQLite it strips the binary floating-point noise of SUM() over decimal columns.
    """
    return round_money(value if value is not None else Decimal(0), currency, Rounding.HALF_UP)


# --- accounts ------------------------------------------------------------------------------------


def list_accounts(*, active_only: bool = False) -> QuerySet[Account]:
    accounts = Account.objects.order_by("code")
    return accounts.filter(is_active=True) if active_only else accounts


def get_account(code: str) -> Account:
    found = Account.objects.filter(code=code).first()
    if found is None:
        raise NotFound(f"there is no account with code {code!r}", field="code")
    return found


def account_balance(*, account: Account | str, currency: str, as_of: date) -> Money:
    """Debits minus credits on the account in one currency, up to and including `as_of`."""
    account = resolve_account(account)
    sums = AccountDayBalance.objects.filter(
        account=account, currency=currency, posted_on__lte=as_of
    ).aggregate(debits=Sum("debit_total"), credits=Sum("credit_total"))
    return settle(sums["debits"], currency) - settle(sums["credits"], currency)


def account_balances(*, account: Account | str, as_of: date) -> list[Money]:
    """The account's balance in each currency it has postings in, up to and including `as_of`."""
    account = resolve_account(account)
    sums = (
        AccountDayBalance.objects.filter(account=account, posted_on__lte=as_of)
        .values("currency")
        .annotate(debits=Sum("debit_total"), credits=Sum("credit_total"))
        .order_by("currency")
    )
    return [
        settle(item["debits"], item["currency"]) - settle(item["credits"], item["currency"]) for item in sums
    ]


def balances_by_currency(*, account: Account | str, as_of: date = date.max) -> dict[str, Decimal]:
    """The account's balance per currency (debits minus credits), for comparing with a subledger."""
    return {balance.currency: balance.amount for balance in account_balances(account=account, as_of=as_of)}


def balances_by_account(*, as_of: date) -> dict[int, list[Money]]:
    """Each account's balance per currency as of a date (accounts without postings are absent)."""
    balances: dict[int, list[Money]] = defaultdict(list)
    for row in trial_balance(as_of=as_of).rows:
        balances[row.account.pk].append(row.balance)
    return dict(balances)


# --- trial balance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialBalanceRow:
    account: Account
    currency: str
    debit: Money  # all debits up to the date
    credit: Money  # all credits up to the date

    @property
    def balance(self) -> Money:
        """Debits minus credits: positive = debit balance."""
        return self.debit - self.credit


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    debit: Money
    credit: Money
    rows: list[TrialBalanceRow] = field(default_factory=list)

    @property
    def difference(self) -> Money:
        return self.debit - self.credit

    @property
    def is_balanced(self) -> bool:
        return self.debit == self.credit


@dataclass(frozen=True)
class TrialBalance:
    as_of: date
    rows: list[TrialBalanceRow]  # by currency, then account code
    totals: list[CurrencyTotal]  # one per currency, each with its rows

    @property
    def is_balanced(self) -> bool:
        return all(total.is_balanced for total in self.totals)


def trial_balance(*, as_of: date, currency: str | None = None) -> TrialBalance:
    """Per account and currency: debits, credits and balance up to `as_of`, with totals per currency."""
    day_rows = AccountDayBalance.objects.filter(posted_on__lte=as_of)
    if currency:
        day_rows = day_rows.filter(currency=currency)
    sums = (
        day_rows.values("account_id", "currency")
        .annotate(debits=Sum("debit_total"), credits=Sum("credit_total"))
        .order_by()
    )
    accounts = {account.pk: account for account in Account.objects.all()}
    rows = [
        TrialBalanceRow(
            account=accounts[item["account_id"]],
            currency=item["currency"],
            debit=settle(item["debits"], item["currency"]),
            credit=settle(item["credits"], item["currency"]),
        )
        for item in sums
    ]
    rows.sort(key=lambda row: (row.currency, row.account.code))
    by_currency: dict[str, list[TrialBalanceRow]] = defaultdict(list)
    for row in rows:
        by_currency[row.currency].append(row)
    totals = [
        CurrencyTotal(
            currency=code,
            debit=sum((row.debit for row in group), Money.zero(code)),
            credit=sum((row.credit for row in group), Money.zero(code)),
            rows=group,
        )
        for code, group in sorted(by_currency.items())
    ]
    return TrialBalance(as_of=as_of, rows=rows, totals=totals)


def receivables_by_customer(
    *, currency: str | None = None, as_of: date | None = None, customer_id: int | None = None
) -> dict[tuple[int | None, str], Decimal]:
    """The receivables control account split by (customer id, currency), from the journal lines.

    Positive = the customer owes us; a None customer id collects receivables posted without one.
    """
    return control_by_customer(RECEIVABLES, currency=currency, as_of=as_of, customer_id=customer_id)


def control_by_customer(
    purpose: str, *, currency: str | None = None, as_of: date | None = None, customer_id: int | None = None
) -> dict[tuple[int | None, str], Decimal]:
    """A control account (receivables, unapplied cash) split by (customer id, currency): debits less
    credits of its journal lines; a None customer id collects lines posted without one."""
    lines = JournalLine.objects.filter(account=control_account(purpose))
    if currency:
        lines = lines.filter(currency=currency)
    if as_of is not None:
        lines = lines.filter(entry__posted_on__lte=as_of)
    if customer_id is not None:
        lines = lines.filter(customer_id=customer_id)
    sums = lines.values("customer_id", "currency").annotate(debits=Sum("debit"), credits=Sum("credit"))
    balances = {
        (item["customer_id"], item["currency"]): (
            settle(item["debits"], item["currency"]) - settle(item["credits"], item["currency"])
        ).amount
        for item in sums.order_by()
    }
    return dict(sorted(balances.items(), key=lambda pair: (pair[0][0] is None, pair[0][0] or 0, pair[0][1])))


# --- entries -------------------------------------------------------------------------------------


def _with_lines(entries: QuerySet[JournalEntry]) -> QuerySet[JournalEntry]:
    lines = JournalLine.objects.select_related("account").order_by("line_no")
    return entries.select_related("period", "posted_by", "reversed_by").prefetch_related(
        Prefetch("lines", lines)
    )


def list_entries(
    *,
    posted_from: date | None = None,
    posted_to: date | None = None,
    account: str = "",
    customer_id: int | None = None,
    source_type: str = "",
    source_id: str = "",
    memo: str = "",
) -> QuerySet[JournalEntry]:
    """Newest first, with their lines; `account` is an account code, `memo` matches part of the memo."""
    entries = JournalEntry.objects.filter(
        **given(
            posted_on__gte=posted_from,
            posted_on__lte=posted_to,
            source_type=source_type,
            source_id=source_id,
            memo__icontains=memo,
        )
    )
    # each of these needs some line of the entry to match, not necessarily the same line
    for lookup, value in given(account__code=account, customer_id=customer_id).items():
        entries = entries.filter(Exists(JournalLine.objects.filter(entry=OuterRef("pk"), **{lookup: value})))
    return _with_lines(entries.order_by("-posted_on", "-id"))


def get_entry(entry_id: int) -> JournalEntry:
    """One entry with its lines, period and reversal; NotFound if there is none."""
    found = _with_lines(JournalEntry.objects.filter(pk=entry_id)).first()
    if found is None:
        raise NotFound(f"there is no journal entry {entry_id}", field="entry_id")
    return found


def entry_totals(entry: JournalEntry) -> list[Money]:
    """The entry's debits per currency (equal to its credits), from its prefetched lines."""
    totals: dict[str, Money] = {}
    for line in entry.lines.all():
        if line.is_debit:
            totals[line.currency] = totals.get(line.currency, Money.zero(line.currency)) + line.amount
    return [totals[currency] for currency in sorted(totals)]


def entry_audit_event(entry: JournalEntry) -> AuditEvent | None:
    """The audit event of the business action that posted the entry."""
    return list_events().filter(journal_entry_id=entry.pk).first()


def entry_snapshot(entry: JournalEntry) -> dict[str, Any]:
    """An entry and its lines as plain data, for audit events and exports."""
    lines = JournalLine.objects.filter(entry=entry).select_related("account").order_by("line_no")
    return {
        "id": entry.pk,
        "posted_on": entry.posted_on.isoformat(),
        "period": entry.period.start_on.isoformat(),
        "memo": entry.memo,
        "source_type": entry.source_type,
        "source_id": entry.source_id,
        "reversal_of": entry.reversal_of_id,
        "digest": entry.digest,
        "lines": [
            {
                "account": line.account.code,
                "currency": line.currency,
                "debit": str(line.amount.amount) if line.is_debit else "0",
                "credit": "0" if line.is_debit else str(line.amount.amount),
                "customer_id": line.customer_id,
                "memo": line.memo,
            }
            for line in lines
        ],
    }


# --- periods -------------------------------------------------------------------------------------


def list_periods() -> QuerySet[AccountingPeriod]:
    """Newest first."""
    return AccountingPeriod.objects.select_related("closed_by", "reopened_by").order_by("-start_on")


def current_open_period() -> AccountingPeriod | None:
    """The latest open period that has begun (a month's period exists once something posts into it)."""
    today = clock.today()
    return (
        AccountingPeriod.objects.filter(status=PeriodStatus.OPEN, start_on__lte=today)
        .order_by("-start_on")
        .first()
    )


def posting_day(on: date) -> date:
    """The day a posting about `on` lands: `on` while its period is open, else today. For what is found
    after a close (a bank line resolved weeks later): its own day is kept on the document, its entry goes
    into the period open now."""
    start = month_start(on)
    closed = AccountingPeriod.objects.filter(start_on__gte=start, status=PeriodStatus.CLOSED).exists()
    return clock.today() if closed else on


# --- checks for `billops check` ------------------------------------------------------------------


def verify_running_balances() -> list[str]:
    """Where the running day balances differ from a GROUP BY over the journal lines; empty when they agree."""
    expected: dict[tuple[int, str, date], tuple[Money, Money]] = {}
    grouped = (
        JournalLine.objects.values("account_id", "currency", "entry__posted_on")
        .annotate(debits=Sum("debit"), credits=Sum("credit"))
        .order_by()
    )
    for item in grouped:
        key = (item["account_id"], item["currency"], item["entry__posted_on"])
        expected[key] = (settle(item["debits"], item["currency"]), settle(item["credits"], item["currency"]))
    codes = dict(Account.objects.values_list("id", "code"))
    problems = []
    day_rows = AccountDayBalance.objects.order_by("posted_on", "account_id", "currency")
    for row in day_rows.iterator(chunk_size=2000):
        key = (row.account_id, row.currency, row.posted_on)
        kept = (settle(row.debit_total, row.currency), settle(row.credit_total, row.currency))
        lines = expected.pop(key, (settle(None, row.currency), settle(None, row.currency)))
        if kept != lines:
            problems.append(
                f"account {codes[row.account_id]} {row.currency} on {row.posted_on.isoformat()}: running "
                f"balance {kept[0]} debit / {kept[1]} credit, journal lines {lines[0]} / {lines[1]}"
            )
    for account_id, currency, on in sorted(expected):
        problems.append(
            f"account {codes[account_id]} {currency} on {on.isoformat()} has lines but no running balance"
        )
    return problems


def verify_entry_digests() -> list[int]:
    """The ids of the entries whose lines or content no longer match their stored digest (empty when none)."""
    entries = JournalEntry.objects.order_by("id").prefetch_related(
        Prefetch("lines", JournalLine.objects.order_by("line_no"))
    )
    return [
        entry.pk
        for entry in entries.iterator(chunk_size=1000)
        if entry_digest(entry, entry.lines.all()) != entry.digest
    ]


class Residual(NamedTuple):
    entry_id: int
    residual: Money  # debits minus credits of the entry in one currency


def unbalanced_entries() -> list[Residual]:
    """Entries whose lines do not balance in some currency, with the residual; posting refuses those,
    so this stays empty unless rows were changed behind the services' back."""
    grouped = JournalLine.objects.values("entry_id", "currency").annotate(
        debits=Sum("debit"), credits=Sum("credit")
    )
    found = []
    for item in grouped.order_by("entry_id", "currency"):
        currency = item["currency"]
        residual = settle(item["debits"], currency) - settle(item["credits"], currency)
        if not residual.is_zero():
            found.append(Residual(item["entry_id"], residual))
    return found
