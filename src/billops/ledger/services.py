"""Ledger writes: manual entries, reversals, accounts and period close. Each is one audited transaction.

`post_entry`, `debit` and `credit` are re-exported here: they are the building blocks other apps'
services call inside their own transactions (see `billops.ledger.posting`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event, snapshot
from billops.core.calendars import month_start
from billops.core.errors import Duplicate, InvalidInput, NotFound
from billops.ledger.accounts import SUBLEDGER_PURPOSES, resolve_account
from billops.ledger.errors import (
    AccountInUse,
    AlreadyReversed,
    CannotReverseReversal,
    DocumentEntry,
    PeriodStateConflict,
    SubledgerAccount,
)
from billops.ledger.models import (
    Account,
    AccountingPeriod,
    AccountPurpose,
    AccountType,
    JournalEntry,
    PeriodStatus,
)
from billops.ledger.posting import Line, credit, debit, locked_period, mirror_lines, post_entry
from billops.ledger.selectors import account_balances, entry_snapshot

__all__ = [
    "Line",
    "change_account",
    "close_period",
    "create_account",
    "credit",
    "debit",
    "post_entry",
    "post_manual_entry",
    "reopen_period",
    "reverse_entry",
]

ACCOUNT_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.-]{0,19}")
ACCOUNT_FIELDS = ["code", "name", "type", "purpose", "is_active"]
PERIOD_FIELDS = ["start_on", "end_on", "status", "closed_at", "closed_by", "reopened_at", "reopened_by"]


def _required_text(value: str, *, field: str, what: str, max_length: int = 200) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(f"{what} is required", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters", field=field)
    return text


@transaction.atomic(durable=True)
def post_manual_entry(*, on: date, lines: Sequence[Line], memo: str, actor: User) -> JournalEntry:
    """Post an adjusting entry typed in by a supervisor; the memo says why.

    Subledger control accounts (receivables, unapplied cash) are refused: their balance must stay the sum
    of customers' open items, so only customer documents post to them.
    """
    require_permission(actor, "ledger.post_manual_entry")
    memo = _required_text(memo, field="memo", what="a manual entry's memo (why it is posted)")
    for number, line in enumerate(lines):
        account = resolve_account(line.account, field=f"lines.{number}.account")
        if account.purpose in SUBLEDGER_PURPOSES:
            raise SubledgerAccount(
                f"account {account.code} ({account.name}) is kept by a subledger; post to it through a "
                "customer document (an opening balance, an invoice, a payment), not a manual entry",
                field=f"lines.{number}.account",
            )
    entry = post_entry(on=on, lines=lines, memo=memo, actor=actor)
    record_event(
        actor=actor,
        action="ledger.entry_posted",
        target=entry,
        after=entry_snapshot(entry),
        journal_entry_id=entry.id,
    )
    return entry


@transaction.atomic(durable=True)
def reverse_entry(*, entry_id: int, on: date, reason: str, actor: User) -> JournalEntry:
    """Post the mirror image of an entry, linked to it; the original stays as it was.

    An entry is reversed at most once, and a reversal is not itself reversed (post a new entry instead).
    Only manual entries are reversed here: an entry a business document posted is corrected through
    that document (a credit note, a payment reversal), so the document and the ledger stay in step.
    """
    require_permission(actor, "ledger.reverse_entry")
    reason = _required_text(reason, field="reason", what="a reason for the reversal")
    original = JournalEntry.objects.select_for_update().filter(pk=entry_id).first()  # serialises reversals
    if original is None:
        raise NotFound(f"there is no journal entry {entry_id}", field="entry_id")
    if original.source_type:
        raise DocumentEntry(
            f"entry {original.pk} was posted by {original.source_type} {original.source_id}; "
            "correct that document instead of reversing its entry",
            field="entry_id",
        )
    if original.reversal_of_id is not None:
        raise CannotReverseReversal(
            f"entry {original.pk} is itself the reversal of entry {original.reversal_of_id}; "
            "post a new entry instead of reversing it",
            field="entry_id",
        )
    earlier = JournalEntry.objects.filter(reversal_of=original).first()
    if earlier is not None:
        raise AlreadyReversed(
            f"entry {original.pk} was already reversed by entry {earlier.pk}", field="entry_id"
        )
    if on < original.posted_on:
        raise InvalidInput(
            f"a reversal cannot be dated before the entry it reverses ({original.posted_on.isoformat()})",
            field="posted_on",
        )
    mirrored = mirror_lines(original)
    reversal = post_entry(
        on=on,
        lines=mirrored,
        memo=f"Reversal of entry {original.pk}: {reason}"[:200],
        actor=actor,
        reversal_of=original,
    )
    record_event(
        actor=actor,
        action="ledger.entry_reversed",
        target=reversal,
        after={**entry_snapshot(reversal), "reason": reason},
        journal_entry_id=reversal.id,
    )
    return reversal


@transaction.atomic(durable=True)
def create_account(*, code: str, name: str, type: str, actor: User, purpose: str | None = None) -> Account:
    """Add an account to the chart; a purpose makes it the control account for that purpose."""
    require_permission(actor, "ledger.manage_accounts")
    code = code.strip()
    if not ACCOUNT_CODE.fullmatch(code):
        raise InvalidInput(
            "an account code is 1 to 20 letters, digits, dots or dashes, like 1210", field="code"
        )
    name = _required_text(name, field="name", what="an account name", max_length=120)
    if type not in AccountType.values:
        raise InvalidInput(f"account type must be one of {', '.join(AccountType.values)}", field="type")
    purpose = purpose or ""
    if purpose and purpose not in AccountPurpose.values:
        raise InvalidInput(f"purpose must be one of {', '.join(AccountPurpose.values)}", field="purpose")
    if Account.objects.filter(code=code).exists():
        raise Duplicate(f"there is already an account {code}", field="code")
    if purpose:
        holder = Account.objects.filter(purpose=purpose).first()
        if holder is not None:
            raise Duplicate(
                f"account {holder} is already the {AccountPurpose(purpose).label} account", field="purpose"
            )
    account = Account.objects.create(code=code, name=name, type=type, purpose=purpose)
    record_event(
        actor=actor, action="ledger.account_created", target=account, after=snapshot(account, ACCOUNT_FIELDS)
    )
    return account


@transaction.atomic(durable=True)
def change_account(
    *, code: str, actor: User, name: str | None = None, is_active: bool | None = None
) -> Account:
    """Rename, deactivate or reactivate an account. A control account, or one with a balance, stays active."""
    require_permission(actor, "ledger.manage_accounts")
    account = Account.objects.select_for_update().filter(code=code).first()
    if account is None:
        raise NotFound(f"there is no account with code {code!r}", field="code")
    before = snapshot(account, ACCOUNT_FIELDS)
    if name is not None:
        account.name = _required_text(name, field="name", what="an account name", max_length=120)
    if is_active is False and account.is_active:
        if account.purpose:
            raise AccountInUse(
                f"account {account} is the {account.get_purpose_display()} account and must stay active",
                field="is_active",
            )
        if any(not balance.is_zero() for balance in account_balances(account=account, as_of=date.max)):
            raise AccountInUse(
                f"account {account} still has a balance; move it before deactivating", field="is_active"
            )
    if is_active is not None:
        account.is_active = is_active
    after = snapshot(account, ACCOUNT_FIELDS)
    if after != before:
        account.save(update_fields=["name", "is_active"])
        record_event(actor=actor, action="ledger.account_changed", target=account, before=before, after=after)
    return account


def _period_start(start_on: date) -> date:
    if start_on != month_start(start_on):
        raise InvalidInput(
            f"a period starts on the 1st of a month, not {start_on.isoformat()}", field="start_on"
        )
    return start_on


@transaction.atomic(durable=True)
def close_period(*, start_on: date, actor: User) -> AccountingPeriod:
    """Close a month: from now on it refuses postings. Earlier open months must be closed first."""
    require_permission(actor, "ledger.close_period")
    period = locked_period(_period_start(start_on))  # the same lock a posting takes: no posting slips in
    if not period.is_open:
        raise PeriodStateConflict(f"the period {period} is already closed", field="start_on")
    earlier_open = (
        AccountingPeriod.objects.filter(start_on__lt=period.start_on, status=PeriodStatus.OPEN)
        .order_by("start_on")
        .first()
    )
    if earlier_open is not None:
        raise PeriodStateConflict(
            f"close {earlier_open} before {period}: periods close in order", field="start_on"
        )
    before = snapshot(period, PERIOD_FIELDS)
    period.status = PeriodStatus.CLOSED
    period.closed_at, period.closed_by = timezone.now(), actor
    period.save(update_fields=["status", "closed_at", "closed_by"])
    record_event(
        actor=actor,
        action="ledger.period_closed",
        target=period,
        before=before,
        after=snapshot(period, PERIOD_FIELDS),
    )
    return period


@transaction.atomic(durable=True)
def reopen_period(*, start_on: date, reason: str, actor: User) -> AccountingPeriod:
    """Open a closed month again so corrections can be posted into it; the reason goes on the audit trail."""
    require_permission(actor, "ledger.reopen_period")
    reason = _required_text(reason, field="reason", what="a reason for reopening the period")
    period = AccountingPeriod.objects.select_for_update().filter(start_on=_period_start(start_on)).first()
    if period is None:
        raise NotFound(f"there is no period starting {start_on.isoformat()}", field="start_on")
    if period.is_open:
        raise PeriodStateConflict(f"the period {period} is already open", field="start_on")
    before = snapshot(period, PERIOD_FIELDS)
    period.status = PeriodStatus.OPEN
    period.reopened_at, period.reopened_by = timezone.now(), actor
    period.save(update_fields=["status", "reopened_at", "reopened_by"])
    after: dict[str, Any] = {**snapshot(period, PERIOD_FIELDS), "reason": reason}
    record_event(actor=actor, action="ledger.period_reopened", target=period, before=before, after=after)
    return period
