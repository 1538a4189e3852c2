"""The time and expense sources of the bill runs (registered in `apps.py`): what is approved and not
billed yet, and marking it billed once it is on an invoice, and pending again when a run's draft
is deleted. Constant queries per call."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal

from django.utils import timezone

from billops.billing.services.billables import Billable, BilledKey
from billops.timekeeping.models import Expense, TimeEntry, WorkStatus
from billops.timekeeping.pricing import approved_expenses, approved_time


def pending_time(up_to: date, customer_ids: Collection[int] | None, lock: bool) -> list[Billable]:
    """Approved time worked up to the day; with `lock`, its rows stay locked until the run's transaction
    ends, so no write-down, rejection or edit slips in between pricing and billing."""
    return approved_time(up_to, customer_ids, lock)


def pending_expenses(up_to: date, customer_ids: Collection[int] | None, lock: bool) -> list[Billable]:
    return [billable for _, billable in approved_expenses(up_to, customer_ids, lock)]


def mark_time_billed(items: Sequence[Billable]) -> None:
    """The entries are on an issued invoice: billed, locked, with the hourly rate the run found."""
    now = timezone.now()
    entries = []
    for item in items:
        if not isinstance(item.source_ref, Decimal):
            raise TypeError(f"{item.key} was billed without an hourly rate")
        entries.append(
            TimeEntry(pk=item.id, status=WorkStatus.BILLED, billed_at=now, billed_rate=item.source_ref)
        )
    TimeEntry.objects.bulk_update(entries, ["status", "billed_at", "billed_rate"])


def mark_expenses_billed(items: Sequence[Billable]) -> None:
    Expense.objects.filter(pk__in=[item.id for item in items]).update(
        status=WorkStatus.BILLED, billed_at=timezone.now()
    )


def release_time(keys: Sequence[BilledKey]) -> None:
    """The draft the entries were on was deleted: approved again, open to write-downs and edits."""
    TimeEntry.objects.filter(pk__in=[key.id for key in keys]).update(
        status=WorkStatus.APPROVED, billed_at=None, billed_rate=None
    )


def release_expenses(keys: Sequence[BilledKey]) -> None:
    Expense.objects.filter(pk__in=[key.id for key in keys]).update(status=WorkStatus.APPROVED, billed_at=None)
