"""Posting a journal entry: the building block every money-moving service calls in its own transaction.

    post_entry(on=received_on, source=payment, memo="payment received", actor=actor,
               lines=[debit(BANK, amount), credit(UNAPPLIED_CASH, amount)])

`post_entry` validates, locks the period, writes the entry and its lines, and adds to the running
day balances. It does not record an audit event: the calling service does, with
`journal_entry_id=entry.id`, so that each entry pairs with exactly one event.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from billops.access.models import User
from billops.core.calendars import month_end, month_start
from billops.core.db import insert_rows
from billops.core.errors import InvalidAmount, InvalidInput
from billops.core.money import Money, Rounding, round_money
from billops.ledger.accounts import resolve_accounts
from billops.ledger.errors import InactiveAccount, PeriodClosed, UnbalancedEntry
from billops.ledger.models import (
    Account,
    AccountDayBalance,
    AccountingPeriod,
    JournalEntry,
    JournalLine,
    PeriodStatus,
)

MEMO_LENGTH = 200
Side = Literal["debit", "credit"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an entry before it is posted; build it with `debit()` or `credit()`."""

    account: (
        Account | str
    )  # an Account, a control-account purpose ("receivables") or an account code ("1000")
    money: Money  # positive, exact to the currency's minor unit
    side: Side
    customer_id: int | None = None
    memo: str = ""


def debit(account: Account | str, money: Money, *, customer_id: int | None = None, memo: str = "") -> Line:
    return Line(account=account, money=money, side="debit", customer_id=customer_id, memo=memo)


def credit(account: Account | str, money: Money, *, customer_id: int | None = None, memo: str = "") -> Line:
    return Line(account=account, money=money, side="credit", customer_id=customer_id, memo=memo)


def _canonical_amount(value: Decimal) -> str:
    # 10.10 written and 10.100000 read back are the same amount, and must hash the same
    return f"{value.normalize():f}"


def entry_digest(entry: JournalEntry, lines: Iterable[JournalLine]) -> str:
    """SHA-256 over an entry's content and its lines; changing, adding or removing any line changes it."""
    content: dict[str, Any] = {
        "posted_on": entry.posted_on.isoformat(),
        "period_id": entry.period_id,
        "memo": entry.memo,
        "source": [entry.source_type, entry.source_id],
        "reversal_of_id": entry.reversal_of_id,
        "posted_at": entry.posted_at.astimezone(UTC).isoformat(),
        "posted_by_id": entry.posted_by_id,
        "lines": [
            [
                line.line_no,
                line.account_id,
                line.currency,
                _canonical_amount(line.debit),
                _canonical_amount(line.credit),
                line.customer_id,
                line.memo,
            ]
            for line in sorted(lines, key=lambda line: line.line_no)
        ],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def locked_period(start_on: date) -> AccountingPeriod:
    """The month's period row, created open when missing, locked until the transaction ends."""
    found = AccountingPeriod.objects.select_for_update().filter(start_on=start_on).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return AccountingPeriod.objects.create(start_on=start_on, end_on=month_end(start_on))
    except IntegrityError:
        # another transaction created it first and has committed by now: lock theirs
        return AccountingPeriod.objects.select_for_update().get(start_on=start_on)


def period_for_posting(on: date) -> AccountingPeriod:
    """The open period a posting dated `on` goes into, locked so it cannot close under the posting."""
    start = month_start(on)
    period = AccountingPeriod.objects.select_for_update().filter(start_on=start).first()
    if period is None:
        later_closed = (
            AccountingPeriod.objects.filter(start_on__gt=start, status=PeriodStatus.CLOSED)
            .order_by("start_on")
            .first()
        )
        if later_closed is not None:
            raise PeriodClosed(
                f"cannot post on {on.isoformat()}: {later_closed} is already closed and nothing may be "
                f"posted before a closed period; a supervisor can reopen {later_closed}",
                field="posted_on",
            )
        period = locked_period(start)
    if not period.is_open:
        raise PeriodClosed(
            f"cannot post on {on.isoformat()}: the period {period} is closed; a supervisor can reopen it",
            field="posted_on",
        )
    return period


def _source_ref(source: models.Model | tuple[str, str] | None) -> tuple[str, str]:
    if source is None:
        return "", ""
    if isinstance(source, models.Model):
        if source.pk is None:
            raise ValueError("post_entry needs a saved source document")
        return f"{source._meta.app_label}.{source._meta.model_name}", str(source.pk)
    source_type, source_id = source
    if not source_type or not source_id:
        raise ValueError("a source reference needs a type and an id")
    return source_type, str(source_id)


def _prepare_lines(lines: Sequence[Line]) -> list[JournalLine]:
    """Validate each line and turn it into an unsaved row; names the line at fault."""
    if len(lines) < 2:
        raise InvalidInput(f"a journal entry needs at least two lines, got {len(lines)}", field="lines")
    for index, line in enumerate(lines):
        if not isinstance(line, Line) or not isinstance(line.money, Money):
            raise TypeError(f"line {index + 1} must be built with debit() or credit() and a Money amount")
    accounts = resolve_accounts(
        [line.account for line in lines], fields=[f"lines.{index}.account" for index in range(len(lines))]
    )
    prepared = []
    for index, (line, account) in enumerate(zip(lines, accounts, strict=True)):
        number, field = index + 1, f"lines.{index}"
        try:
            amount = round_money(line.money, policy=Rounding.EXACT, field=line.side)
        except InvalidAmount as exc:
            raise InvalidAmount(f"line {number}: {exc.message}", field=f"{field}.{line.side}") from None
        if amount.amount <= 0:
            raise InvalidAmount(
                f"line {number}: the {line.side} must be more than zero, got {amount}",
                field=f"{field}.{line.side}",
            )
        if not account.is_active:
            raise InactiveAccount(
                f"line {number}: account {account} is inactive and takes no postings",
                field=f"{field}.account",
            )
        customer_id = line.customer_id
        if customer_id is not None and (type(customer_id) is not int or customer_id <= 0):
            raise InvalidInput(
                f"line {number}: customer id must be a positive number", field=f"{field}.customer_id"
            )
        if len(line.memo) > MEMO_LENGTH:
            raise InvalidInput(
                f"line {number}: memo is longer than {MEMO_LENGTH} characters", field=f"{field}.memo"
            )
        zero = Decimal(0)
        prepared.append(
            JournalLine(
                line_no=number,
                account=account,
                currency=amount.currency,
                debit=amount.amount if line.side == "debit" else zero,
                credit=amount.amount if line.side == "credit" else zero,
                customer_id=customer_id,
                memo=line.memo,
            )
        )
    return prepared


def _check_balance(lines: Sequence[JournalLine]) -> None:
    """Debits equal credits in every currency, exactly; otherwise name each residual."""
    residual: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        residual[line.currency] += line.debit - line.credit
    problems = []
    for currency in sorted(residual):
        difference = residual[currency]
        if difference:
            side = "debits exceed credits" if difference > 0 else "credits exceed debits"
            problems.append(f"{side} by {round_money(abs(difference), currency, Rounding.EXACT)}")
    if problems:
        raise UnbalancedEntry(
            f"the entry does not balance: {'; '.join(problems)}",
            field="lines",
            residuals={currency: str(value) for currency, value in residual.items() if value},
        )


def _add_to_day_balances(on: date, lines: Sequence[JournalLine]) -> None:
    """Add the lines to their accounts' running totals of the day, creating a day's row on its first
    posting, in one statement; the ORM has no upsert that adds to a column."""
    totals: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in lines:
        pair = totals[(line.account_id, line.currency)]
        pair[0] += line.debit
        pair[1] += line.credit
    # a fixed order, so two postings touching the same accounts lock the rows in the same order
    rows = sorted(totals.items())
    day = connection.ops.adapt_datefield_value(on)
    params = [
        value
        for (account_id, currency), (debits, credits) in rows
        for value in (account_id, currency, day, debits, credits)
    ]
    table = connection.ops.quote_name(AccountDayBalance._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    # the table is the model's and every value a parameter
    upsert = (
        f"INSERT INTO {table} (account_id, currency, posted_on, debit_total, credit_total) VALUES {values} "  # noqa: S608
        "ON CONFLICT (account_id, currency, posted_on) DO UPDATE SET "
        f"debit_total = {table}.debit_total + excluded.debit_total, "
        f"credit_total = {table}.credit_total + excluded.credit_total"
    )
    with connection.cursor() as cursor:
        cursor.execute(upsert, params)


def opposite(lines: Sequence[Line]) -> list[Line]:
    """The lines that undo these: each debit becomes a credit and each credit a debit."""
    return [replace(line, side="credit" if line.side == "debit" else "debit") for line in lines]


def mirror_lines(entry: JournalEntry) -> list[Line]:
    """The lines that undo an entry: each debit becomes a credit and each credit a debit."""
    return opposite(
        [
            Line(
                account=line.account,
                money=line.amount,
                side="debit" if line.is_debit else "credit",
                customer_id=line.customer_id,
                memo=line.memo,
            )
            for line in JournalLine.objects.filter(entry=entry).select_related("account").order_by("line_no")
        ]
    )


def post_entry(
    *,
    on: date,
    lines: Sequence[Line],
    memo: str = "",
    source: models.Model | tuple[str, str] | None = None,
    actor: User | None,
    reversal_of: JournalEntry | None = None,
) -> JournalEntry:
    """Post a balanced entry dated `on` inside the caller's transaction; records no audit event.

    Raises UnbalancedEntry, PeriodClosed, InactiveAccount or InvalidAmount and writes nothing then.
    `actor` is the user who posts, or None for the system itself.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("post_entry runs inside the calling service's transaction")
    entry, prepared = build_entry(
        on=on, lines=lines, memo=memo, source=source, actor=actor, reversal_of=reversal_of
    )
    entry.save(force_insert=True)
    JournalLine.objects.bulk_create(prepared)
    _add_to_day_balances(on, prepared)
    return entry


def build_entry(
    *,
    on: date,
    lines: Sequence[Line],
    memo: str,
    source: models.Model | tuple[str, str] | None,
    actor: User | None,
    reversal_of: JournalEntry | None = None,
    period: AccountingPeriod | None = None,
    entry_id: int | None = None,
) -> tuple[JournalEntry, list[JournalLine]]:
    """An entry and its lines, checked and with their digest, not yet written. `period`: the open period
    of `on` when the caller has locked it already (`period_for_posting`) for many entries of one day."""
    if isinstance(on, datetime) or not isinstance(on, date):
        raise TypeError(f"post_entry needs a date, got {type(on).__name__}")
    if len(memo) > MEMO_LENGTH:
        raise InvalidInput(f"memo is longer than {MEMO_LENGTH} characters", field="memo")
    prepared = _prepare_lines(lines)
    _check_balance(prepared)
    period = period or period_for_posting(on)
    source_type, source_id = _source_ref(source)
    entry = JournalEntry(
        pk=entry_id,
        posted_on=on,
        period=period,
        memo=memo,
        source_type=source_type,
        source_id=source_id,
        reversal_of=reversal_of,
        posted_at=timezone.now(),
        posted_by=actor,
    )
    entry.digest = entry_digest(entry, prepared)
    for line in prepared:
        line.entry = entry
    return entry, prepared


def write_entries(on: date, entries: Sequence[tuple[JournalEntry, list[JournalLine]]]) -> None:
    """Write entries built by `build_entry` for the day `on`, with their ids set (`reserve_ids`), in one
    insert per table, and add them to the day balances in one statement."""
    insert_rows([entry for entry, _ in entries])
    lines = [line for _, entry_lines in entries for line in entry_lines]
    insert_rows(lines)
    _add_to_day_balances(on, lines)
