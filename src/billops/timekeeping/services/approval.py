"""Approving recorded work, and the pre-bill review's write-downs and write-ups.

Draft → submitted (by whoever records it) → approved (by a supervisor who neither recorded nor
submitted it, and whose own time it is not) → billed by a run. A supervisor may reject submitted or
approved work back to draft with a reason. Billed work is locked. Every step is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.errors import InvalidAmount, InvalidInput
from billops.core.money import money
from billops.invoicing.errors import SelfApproval, WrongStatus
from billops.invoicing.services.lines import clean_text
from billops.timekeeping.models import Expense, RecordedWork, TimeEntry, WorkStatus
from billops.timekeeping.services.entries import clean_hours, locked_work, refuse_locked

MAX_BILLED_HOURS = 999


def _action(work: RecordedWork) -> str:
    return "time_entry" if isinstance(work, TimeEntry) else "expense"


def _submit(work: RecordedWork, actor: User) -> None:
    refuse_locked(work, "submitted")
    if work.status != WorkStatus.DRAFT:
        raise WrongStatus(f"{work} is {work.status}; only a draft is submitted", field="status")
    work.status, work.submitted_by, work.submitted_at = WorkStatus.SUBMITTED, actor, timezone.now()
    work.save(update_fields=["status", "submitted_by", "submitted_at"])
    record_event(
        actor=actor, action=f"{_action(work)}.submitted", target=work, before={"status": WorkStatus.DRAFT},
        after={"status": work.status},
    )  # fmt: skip


def _approve(work: RecordedWork, actor: User, makers: set[int | None]) -> None:
    refuse_locked(work, "approved again")
    if work.status != WorkStatus.SUBMITTED:
        needs = "approved already" if work.status == WorkStatus.APPROVED else "a draft: submit it first"
        raise WrongStatus(f"{work} is {needs}", field="status")
    if actor.pk in makers:
        raise SelfApproval(f"{work} is your own work: another supervisor approves it", field="approved_by")
    work.status, work.approved_by, work.approved_at = WorkStatus.APPROVED, actor, timezone.now()
    work.save(update_fields=["status", "approved_by", "approved_at"])
    record_event(
        actor=actor, action=f"{_action(work)}.approved", target=work, before={"status": WorkStatus.SUBMITTED},
        after={"status": work.status},
    )  # fmt: skip


def _reject(work: RecordedWork, reason: str, actor: User) -> None:
    """Back to draft, to be corrected and submitted again; an approved entry's review is undone too."""
    reason = clean_text(reason, "reason", limit=300, required=True)
    refuse_locked(work, "rejected")
    if work.status not in (WorkStatus.SUBMITTED, WorkStatus.APPROVED):
        raise WrongStatus(f"{work} is a draft already", field="status")
    before = {"status": work.status}
    work.status, work.rejection_reason = WorkStatus.DRAFT, reason
    work.submitted_by = work.submitted_at = work.approved_by = work.approved_at = None
    fields = ["status", "rejection_reason", "submitted_by", "submitted_at", "approved_by", "approved_at"]
    if isinstance(work, TimeEntry) and work.adjusted_at is not None:
        before |= _adjustment(work)
        work.billed_hours = work.billed_amount = work.adjusted_by = work.adjusted_at = None
        work.adjustment_reason = ""
        fields += ["billed_hours", "billed_amount", "adjustment_reason", "adjusted_by", "adjusted_at"]
    work.save(update_fields=fields)
    record_event(
        actor=actor, action=f"{_action(work)}.rejected", target=work, before=before,
        after={"status": work.status, "reason": reason},
    )  # fmt: skip


def _entry_makers(entry: TimeEntry) -> set[int | None]:
    return {entry.created_by_id, entry.submitted_by_id, entry.timekeeper.user_id} - {None}


@transaction.atomic(durable=True)
def submit_time_entry(*, entry_id: int, actor: User) -> TimeEntry:
    """Hand a draft entry to a supervisor for approval."""
    require_permission(actor, "time.record")
    entry = locked_work(TimeEntry, entry_id)
    _submit(entry, actor)
    return entry


@transaction.atomic(durable=True)
def approve_time_entry(*, entry_id: int, actor: User) -> TimeEntry:
    """Approve a submitted entry for billing; never one's own (recorded, submitted or worked)."""
    require_permission(actor, "time.approve")
    entry = locked_work(TimeEntry, entry_id)
    _approve(entry, actor, _entry_makers(entry))
    return entry


@transaction.atomic(durable=True)
def reject_time_entry(*, entry_id: int, reason: str, actor: User) -> TimeEntry:
    """Send a submitted or approved entry back to draft with the reason; its write-down goes too."""
    require_permission(actor, "time.approve")
    entry = locked_work(TimeEntry, entry_id)
    _reject(entry, reason, actor)
    return entry


@transaction.atomic(durable=True)
def submit_expense(*, expense_id: int, actor: User) -> Expense:
    require_permission(actor, "time.record")
    expense = locked_work(Expense, expense_id)
    _submit(expense, actor)
    return expense


@transaction.atomic(durable=True)
def approve_expense(*, expense_id: int, actor: User) -> Expense:
    """Approve a submitted expense for billing; never one's own (recorded or submitted)."""
    require_permission(actor, "time.approve")
    expense = locked_work(Expense, expense_id)
    _approve(expense, actor, {expense.created_by_id, expense.submitted_by_id} - {None})
    return expense


@transaction.atomic(durable=True)
def reject_expense(*, expense_id: int, reason: str, actor: User) -> Expense:
    require_permission(actor, "time.approve")
    expense = locked_work(Expense, expense_id)
    _reject(expense, reason, actor)
    return expense


def _adjustment(entry: TimeEntry) -> dict[str, Any]:
    return {
        "billed_hours": entry.billed_hours,
        "billed_amount": entry.billed_amount,
        "adjustment_reason": entry.adjustment_reason,
    }


@transaction.atomic(durable=True)
def adjust_time_entry(
    *, entry_id: int, reason: str, actor: User, billed_hours: Any = None, billed_amount: Any = None
) -> TimeEntry:
    """The pre-bill review of an approved entry: bill other hours (at the rate), or another amount, than
    its hours at the rate — a write-down or a write-up. The hours worked stay as recorded; the audit event
    keeps the adjustment before and after. A later adjustment replaces the earlier one."""
    require_permission(actor, "time.approve")
    reason = clean_text(reason, "reason", limit=300, required=True)
    if (billed_hours is None) == (billed_amount is None):
        raise InvalidInput("give the hours or the amount to bill, one of them", field="billed_hours")
    entry = locked_work(TimeEntry, entry_id)
    refuse_locked(entry, "adjusted")
    if entry.status != WorkStatus.APPROVED:
        raise WrongStatus(
            f"{entry} is {entry.status}; only approved time is reviewed for billing", field="status"
        )
    before = _adjustment(entry)
    if billed_hours is not None:
        hours = clean_hours(billed_hours, "billed_hours")
        if hours > MAX_BILLED_HOURS:
            raise InvalidAmount(
                f"billed_hours {billed_hours} is more than {MAX_BILLED_HOURS}", field="billed_hours"
            )
        entry.billed_hours, entry.billed_amount = hours, None
    else:
        amount = money(billed_amount, entry.currency, field="billed_amount").amount
        if amount < 0:
            raise InvalidAmount("billed_amount must not be negative", field="billed_amount")
        entry.billed_hours, entry.billed_amount = None, amount
    entry.adjustment_reason, entry.adjusted_by, entry.adjusted_at = reason, actor, timezone.now()
    entry.save(
        update_fields=["billed_hours", "billed_amount", "adjustment_reason", "adjusted_by", "adjusted_at"]
    )
    record_event(
        actor=actor, action="time_entry.adjusted", target=entry, before=before,
        after={**_adjustment(entry), "hours": entry.hours},
    )  # fmt: skip
    return entry
