"""API: chart of accounts, periods, journal entries and the trial balance, under /api/v1/ledger/.

Amounts travel as decimal strings (billops.core.schemas).
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from billops.access import clock
from billops.access.auth import api_actor
from billops.core.currencies import validate_currency
from billops.core.errors import InvalidInput
from billops.core.money import Money, round_money
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    AmountOut,
    DateIn,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)
from billops.ledger import selectors, services
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine
from billops.ledger.posting import Line

router = Router()


def _zero(currency: str) -> Decimal:
    return round_money(Decimal(0), currency).amount  # "0.00", "0" for JPY


# --- accounts ------------------------------------------------------------------------------------


class AccountOut(Schema):
    code: str
    name: str
    type: str
    purpose: str | None  # the control account's purpose, or null
    is_active: bool

    @staticmethod
    def resolve_purpose(obj: Account) -> str | None:
        return obj.purpose or None


class AccountIn(StrictIn):
    code: str
    name: str
    type: Literal["asset", "liability", "equity", "revenue", "expense"]
    purpose: str | None = None


@router.get("/accounts", response={200: list[AccountOut], **errors(*QUERY_ERRORS)})
def list_accounts(request: HttpRequest, active_only: bool = False) -> object:
    return selectors.list_accounts(active_only=active_only)


@router.post("/accounts", response={201: AccountOut, **errors(*WRITE_ERRORS)})
def create_account(request: HttpRequest, payload: AccountIn) -> object:
    account = services.create_account(
        code=payload.code,
        name=payload.name,
        type=payload.type,
        purpose=payload.purpose,
        actor=api_actor(request),
    )
    return Status(201, account)


# --- periods -------------------------------------------------------------------------------------


class PeriodOut(Schema):
    start_on: date
    end_on: date
    status: str
    closed_at: datetime | None
    closed_by: str | None
    reopened_at: datetime | None
    reopened_by: str | None

    @staticmethod
    def resolve_closed_by(obj: AccountingPeriod) -> str | None:
        return obj.closed_by.get_username() if obj.closed_by else None

    @staticmethod
    def resolve_reopened_by(obj: AccountingPeriod) -> str | None:
        return obj.reopened_by.get_username() if obj.reopened_by else None


class ReasonIn(StrictIn):
    reason: str


@router.get("/periods", response={200: list[PeriodOut], **errors()})
def list_periods(request: HttpRequest) -> object:
    return selectors.list_periods()


@router.post("/periods/{start_on}/close", response={200: PeriodOut, **errors(*WRITE_ERRORS, 404)})
def close_period(request: HttpRequest, start_on: DateIn) -> object:
    return services.close_period(start_on=start_on, actor=api_actor(request))


@router.post("/periods/{start_on}/reopen", response={200: PeriodOut, **errors(*WRITE_ERRORS, 404)})
def reopen_period(request: HttpRequest, start_on: DateIn, payload: ReasonIn) -> object:
    return services.reopen_period(start_on=start_on, reason=payload.reason, actor=api_actor(request))


# --- entries -------------------------------------------------------------------------------------


class LineOut(Schema):
    line_no: int
    account: str
    account_name: str
    currency: str
    debit: AmountOut
    credit: AmountOut
    customer_id: int | None
    memo: str

    @staticmethod
    def resolve_account(obj: JournalLine) -> str:
        return obj.account.code

    @staticmethod
    def resolve_account_name(obj: JournalLine) -> str:
        return obj.account.name

    @staticmethod
    def resolve_debit(obj: JournalLine) -> Decimal:
        return obj.amount.amount if obj.is_debit else _zero(obj.currency)

    @staticmethod
    def resolve_credit(obj: JournalLine) -> Decimal:
        return _zero(obj.currency) if obj.is_debit else obj.amount.amount


class EntryOut(Schema):
    id: int
    posted_on: date
    period: date
    memo: str
    source_type: str  # blank for manual entries
    source_id: str
    reversal_of: int | None
    reversed_by: int | None
    posted_at: datetime
    posted_by: str | None
    digest: str
    lines: list[LineOut]

    @staticmethod
    def resolve_period(obj: JournalEntry) -> date:
        return obj.period.start_on

    @staticmethod
    def resolve_reversal_of(obj: JournalEntry) -> int | None:
        return obj.reversal_of_id

    @staticmethod
    def resolve_reversed_by(obj: JournalEntry) -> int | None:
        reversal = obj.reversal
        return reversal.pk if reversal else None

    @staticmethod
    def resolve_posted_by(obj: JournalEntry) -> str | None:
        return obj.posted_by.get_username() if obj.posted_by else None


class LineIn(StrictIn):
    account: str  # an account code ("1000") or a control-account purpose ("receivables")
    currency: str
    debit: AmountIn | None = None
    credit: AmountIn | None = None
    customer_id: RowId | None = None
    memo: str = ""


class EntryIn(StrictIn):
    posted_on: DateIn
    memo: str
    lines: list[LineIn]


class ReverseIn(StrictIn):
    posted_on: DateIn
    reason: str


def _lines(payload: EntryIn) -> list[Line]:
    lines = []
    for index, line in enumerate(payload.lines):
        field = f"lines.{index}"
        validate_currency(line.currency, field=f"{field}.currency")
        if line.debit is not None and line.credit is None:
            side, amount = "debit", line.debit
        elif line.credit is not None and line.debit is None:
            side, amount = "credit", line.credit
        else:
            raise InvalidInput(
                f"line {index + 1}: give either a debit or a credit, not both or neither", field=field
            )
        lines.append(
            Line(
                account=line.account,
                money=Money(amount, line.currency),
                side=side,  # type: ignore[arg-type]
                customer_id=line.customer_id,
                memo=line.memo,
            )
        )
    return lines


class EntryFilters(Schema):
    """Query parameters of the journal list: each one left out matches every entry."""

    posted_from: DateIn | None = None
    posted_to: DateIn | None = None
    account: str = ""  # an account code
    customer_id: int | None = None
    source_type: str = ""
    source_id: str = ""
    memo: str = ""  # part of the memo


@router.get("/entries", response={200: list[EntryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_entries(request: HttpRequest, filters: Query[EntryFilters]) -> object:
    return selectors.list_entries(**filters.model_dump())


@router.get("/entries/{entry_id}", response={200: EntryOut, **errors(404, 422)})
def get_entry(request: HttpRequest, entry_id: RowId) -> object:
    return selectors.get_entry(entry_id)


@router.post("/entries", response={201: EntryOut, **errors(*WRITE_ERRORS, 404)})
def post_manual_entry(request: HttpRequest, payload: EntryIn) -> object:
    entry = services.post_manual_entry(
        on=payload.posted_on, lines=_lines(payload), memo=payload.memo, actor=api_actor(request)
    )
    return Status(201, selectors.get_entry(entry.pk))


@router.post("/entries/{entry_id}/reverse", response={201: EntryOut, **errors(*WRITE_ERRORS, 404)})
def reverse_entry(request: HttpRequest, entry_id: RowId, payload: ReverseIn) -> object:
    reversal = services.reverse_entry(
        entry_id=entry_id, on=payload.posted_on, reason=payload.reason, actor=api_actor(request)
    )
    return Status(201, selectors.get_entry(reversal.pk))


# --- trial balance -------------------------------------------------------------------------------


class TrialBalanceRowOut(Schema):
    account: str
    account_name: str
    account_type: str
    currency: str
    debit: AmountOut
    credit: AmountOut
    balance: AmountOut  # debit minus credit: positive = debit balance


class CurrencyTotalOut(Schema):
    currency: str
    debit: AmountOut
    credit: AmountOut
    difference: AmountOut  # zero when the book balances


class TrialBalanceOut(Schema):
    as_of: date
    rows: list[TrialBalanceRowOut]
    totals: list[CurrencyTotalOut]


@router.get("/trial-balance", response={200: TrialBalanceOut, **errors(*QUERY_ERRORS)})
def trial_balance(request: HttpRequest, as_of: DateIn | None = None, currency: str = "") -> object:
    if currency:
        validate_currency(currency)
    report = selectors.trial_balance(as_of=as_of or clock.today(), currency=currency or None)
    return {
        "as_of": report.as_of,
        "rows": [
            {
                "account": row.account.code,
                "account_name": row.account.name,
                "account_type": row.account.type,
                "currency": row.currency,
                "debit": row.debit.amount,
                "credit": row.credit.amount,
                "balance": row.balance.amount,
            }
            for row in report.rows
        ],
        "totals": [
            {
                "currency": total.currency,
                "debit": total.debit.amount,
                "credit": total.credit.amount,
                "difference": total.difference.amount,
            }
            for total in report.totals
        ],
    }
